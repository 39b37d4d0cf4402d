Feature: status of the read app
  Monitoring checks that the app and its database are up, and that every data
  set has been written to as often as expected.

  Scenario: the app is up
    When I GET "/_status" on the read app
    Then the status is 200
    And the JSON response is
      """
      {"status": "ok", "message": "app is up"}
      """
    And the header "Cache-Control" is "no-cache"

  Scenario: the database is unreachable
    Given a read app whose database cannot be opened
    When I GET "/_status" on that read app
    Then the status is 503
    And the JSON at "status" is "error"

  Scenario: all data sets in date
    Given a data set "fresh" exists
    And "fresh" contains
      """
      {"count": 1}
      """
    When I GET "/_status/data-sets" on the read app
    Then the status is 200
    And the JSON response is
      """
      {"status": "ok", "data_sets": null, "message": "All data_sets are in date"}
      """

  Scenario: data sets never written to are not checked
    Given a data set "empty" exists with config
      """
      {"max_age_expected": 0}
      """
    When I GET "/_status/data-sets" on the read app
    Then the JSON at "status" is "ok"

  Scenario: data sets without max_age_expected are not checked
    Given a data set "unchecked" exists with config
      """
      {"max_age_expected": null}
      """
    And "unchecked" contains
      """
      {"count": 1}
      """
    When I GET "/_status/data-sets" on the read app
    Then the JSON at "status" is "ok"

  Scenario: one data set out of date
    Given a data set "stale" exists with config
      """
      {"max_age_expected": 0}
      """
    And "stale" contains
      """
      {"count": 1}
      """
    And 1.2 seconds have passed
    When I GET "/_status/data-sets" on the read app
    Then the status is 200
    And the JSON response contains
      """
      {"status": "not okay", "message": "1 data-set is out of date",
       "data_sets": [{"name": "stale", "max-age-expected": 0}]}
      """
    And the number at "data_sets.0.seconds-out-of-date" is a positive integer
    And the time at "data_sets.0.last-updated" is ISO 8601 with +00:00

  Scenario: several data sets out of date
    Given a data set "stale-a" exists with config
      """
      {"max_age_expected": 0}
      """
    And a data set "stale-b" exists with config
      """
      {"max_age_expected": 0}
      """
    And "stale-a" contains
      """
      {"count": 1}
      """
    And "stale-b" contains
      """
      {"count": 1}
      """
    And 1.2 seconds have passed
    When I GET "/_status/data-sets" on the read app
    Then the JSON at "message" is "2 data-sets are out of date"
