Feature: the admin API manages data sets
  Scenario: create a data set and write with its token
    When I POST "/data-sets" on the write app as admin
      """
      {"name": "new_set", "realtime": true}
      """
    Then the status is 201
    And the JSON response contains
      """
      {"name": "new_set", "data_group": "new_set", "data_type": "new_set", "realtime": true,
       "published": true, "capped_size": 0}
      """
    And the response carries the new token of "new_set"
    When I POST "/data/new_set/new_set" on the write app with the token of "new_set"
      """
      {"value": 1}
      """
    Then the status is 200

  Scenario: a taken name is a conflict
    Given a data set "things" exists
    When I POST "/data-sets" on the write app as admin
      """
      {"name": "things"}
      """
    Then the status is 409

  Scenario: list data sets without their tokens
    Given a data set "bbb" exists
    And a data set "aaa" exists
    When I GET "/data-sets" on the write app as admin
    Then the status is 200
    And the JSON response contains
      """
      [{"name": "aaa"}, {"name": "bbb"}]
      """
    And the header "Content-Type" is "application/json"

  Scenario: update a data set
    Given a data set "things" exists
    When I PATCH "/data-sets/things" on the write app as admin
      """
      {"published": false, "max_age_expected": null}
      """
    Then the status is 200
    And the JSON at "published" is false
    And the JSON at "max_age_expected" is null

  Scenario: rotate a token
    Given a data set "things" exists
    When I POST "/data-sets/things/token" on the write app as admin
    Then the status is 200
    And the response carries the new token of "things"
    And the previous token of "things" is refused
    When I POST "/data/things/things" on the write app with the token of "things"
      """
      {"value": 1}
      """
    Then the status is 200

  Scenario: delete a data set
    Given a data set "things" exists
    And "things" contains
      """
      [{"value": 1}]
      """
    When I DELETE "/data-sets/things" on the write app as admin
    Then the status is 200
    And the JSON response is
      """
      {"status": "ok", "message": "Deleted things"}
      """
    When I GET "/data-sets/things" on the write app as admin
    Then the status is 404
    And the message is "No collection exists with name "things""

  Scenario: delete an unknown data set
    When I DELETE "/data-sets/nope" on the write app as admin
    Then the status is 404
    And the message is "No collection exists with name "nope""

  Scenario: the admin API needs the admin token
    Given a data set "things" exists
    When I GET "/data-sets" on the write app with the token of "things"
    Then the status is 401
    And the header "WWW-Authenticate" is "bearer"
