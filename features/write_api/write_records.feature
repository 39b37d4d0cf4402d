Feature: writing records
  A producer pushes JSON records to a data set with its bearer token;
  a batch is stored whole or not at all.

  Background:
    Given a data set "things" exists with config
      """
      {"data_group": "group", "data_type": "type"}
      """

  Scenario: write one record
    When I POST "/data/group/type" on the write app with the token of "things"
      """
      {"_id": "a", "value": 1, "_timestamp": "2024-01-01T00:00:00Z"}
      """
    Then the status is 200
    And the JSON response is
      """
      {"status": "ok"}
      """
    And "things" holds 1 records

  Scenario: write a batch
    Given the request body is a batch of 500 records with _ids "r"
    When I POST "/data/group/type" on the write app with the token of "things"
    Then the status is 200
    And "things" holds 500 records

  Scenario: writing the same _id again replaces the record
    Given "things" contains
      """
      [{"_id": "a", "value": 1}]
      """
    When I POST "/data/group/type" on the write app with the token of "things"
      """
      [{"_id": "a", "value": 2}]
      """
    Then the status is 200
    And "things" holds 1 records

  Scenario: a batch with one invalid record stores nothing
    When I POST "/data/group/type" on the write app with the token of "things"
      """
      [{"value": 1}, {"foo-bar": 2}, {"_foo": 3, "nested": {"a": 1}}]
      """
    Then the status is 400
    And the JSON response contains
      """
      {"messages": [
        "record 1: foo-bar is not a valid key",
        "record 2: _foo is not a recognised internal field",
        "record 2: nested has an invalid value"
      ]}
      """
    And "things" holds 0 records

  Scenario: invalid JSON
    Given the request body is
      """
      {"value": 1,
      """
    When I POST "/data/group/type" on the write app with the token of "things"
    Then the status is 400
    And the message starts with "Error parsing JSON: "

  Scenario: empty body
    When I POST "/data/group/type" on the write app with the token of "things"
    Then the status is 400
    And the message is "Expected JSON request body but received zero bytes."

  Scenario: a wrong token is refused and named
    Given the request header "Authorization" is "Bearer not-the-token"
    When I POST "/data/group/type" on the write app
      """
      {"value": 1}
      """
    Then the status is 401
    And the header "WWW-Authenticate" is "bearer"
    And the message is "Unauthorized: Invalid bearer token 'not-the-token' for 'things'"
    And "things" holds 0 records

  Scenario: a malformed Authorization header
    Given the request header "Authorization" is "Token abc"
    When I POST "/data/group/type" on the write app
      """
      {"value": 1}
      """
    Then the status is 401
    And the header "WWW-Authenticate" is "bearer"
    And the message is "Expected header of form: Authorization: Bearer <token>"

  Scenario: no Authorization header
    When I POST "/data/group/type" on the write app
      """
      {"value": 1}
      """
    Then the status is 401
    And the message is "Expected header of form: Authorization: Bearer <token>"

  Scenario: an unknown data set
    When I POST "/data/no/where" on the write app with the token of "things"
      """
      {"value": 1}
      """
    Then the status is 404
    And the JSON at "status" is "error"

  Scenario: a wrong method
    When I GET "/data/group/type" on the write app
    Then the status is 405
    And the JSON at "status" is "error"

  Scenario: legacy write by name
    When I POST "/things" on the write app with the token of "things"
      """
      [{"value": 1}]
      """
    Then the status is 200
    And the JSON response is
      """
      {"status": "ok", "message": "Deprecation Warning: accessing by data-set name is deprecated, Please use the /data-group/data-type form"}
      """
    And "things" holds 1 records
