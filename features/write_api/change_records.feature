Feature: changing and removing records
  Background:
    Given a data set "things" exists with config
      """
      {"data_group": "group", "data_type": "type"}
      """
    And "things" contains
      """
      [{"_id": "a", "value": 1, "kind": "x", "_timestamp": "2024-01-01T00:00:00Z"},
       {"_id": "b", "value": 2, "kind": "y", "_timestamp": "2024-01-02T00:00:00Z"}]
      """

  Scenario: PUT an empty list empties the data set
    When I PUT "/data/group/type" on the write app with the token of "things"
      """
      []
      """
    Then the status is 200
    And the JSON response is
      """
      {"status": "ok", "message": "things now contains 0 records"}
      """
    And "things" holds 0 records

  Scenario: PUT anything else is refused
    When I PUT "/data/group/type" on the write app with the token of "things"
      """
      [{"value": 3}]
      """
    Then the status is 400
    And the message is "Not implemented: you can only pass an empty JSON list"
    And "things" holds 2 records

  Scenario: DELETE a record
    When I DELETE "/data/group/type/a" on the write app with the token of "things"
    Then the status is 200
    And the JSON response is
      """
      {"status": "ok"}
      """
    And "things" holds 1 records

  Scenario: DELETE an unknown record
    When I DELETE "/data/group/type/zzz" on the write app with the token of "things"
    Then the status is 404

  Scenario: PATCH a record
    When I PATCH "/data/group/type/a" on the write app with the token of "things"
      """
      {"value": 10, "_timestamp": "2024-01-03T00:00:00Z"}
      """
    Then the status is 200
    When I GET "/data/group/type" on the read app
    Then the JSON response contains
      """
      {"data": [
        {"_id": "b", "value": 2, "kind": "y"},
        {"_id": "a", "value": 10, "kind": "x", "_timestamp": "2024-01-03T00:00:00+00:00"}
      ]}
      """

  Scenario: PATCH with an invalid field changes nothing
    When I PATCH "/data/group/type/a" on the write app with the token of "things"
      """
      {"bad-key": 1}
      """
    Then the status is 400
    And the JSON response contains
      """
      {"messages": ["bad-key is not a valid key"]}
      """

  Scenario: trigger transforms needs a start
    When I POST "/data/group/type/transform" on the write app with the token of "things"
      """
      {"_end_at": "2024-01-08T00:00:00Z"}
      """
    Then the status is 400
    And the message is "You must specify a _start_at timestamp"

  Scenario: trigger transforms over a range
    When I POST "/data/group/type/transform" on the write app with the token of "things"
      """
      {"_start_at": "2024-01-01T00:00:00Z", "_end_at": "2024-01-08T00:00:00Z"}
      """
    Then the status is 200
    And the JSON response is
      """
      {"status": "ok"}
      """
