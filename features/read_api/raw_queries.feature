Feature: raw queries
  A consumer reads the records of a data set back, filtered, sorted and cut,
  by its address or by its deprecated name.

  Background:
    Given a data set "visits" exists with config
      """
      {"data_group": "site", "data_type": "visits"}
      """
    And "visits" contains
      """
      [
        {"_id": "b", "_timestamp": "2014-01-02T00:00:00Z", "channel": "web", "count": 9, "paid": true, "path": "/foo/1"},
        {"_id": "a", "_timestamp": "2014-01-02T00:00:00Z", "channel": "app", "count": 3, "paid": false, "path": "/bar"},
        {"_id": "c", "_timestamp": "2014-01-01T00:00:00+01:00", "channel": "web", "count": 5, "path": "/foo/2"},
        {"_id": "d", "_timestamp": "2014-01-03T12:00:00Z", "channel": "phone", "count": "3"}
      ]
      """

  Scenario: records come back in time order, then by _id, without period keys
    When I GET "/data/site/visits" on the read app
    Then the status is 200
    And the response has 4 data rows
    And the JSON response contains
      """
      {"data": [
        {"_id": "c", "_timestamp": "2013-12-31T23:00:00+00:00", "channel": "web", "count": 5, "path": "/foo/2"},
        {"_id": "a", "_timestamp": "2014-01-02T00:00:00+00:00"},
        {"_id": "b", "_timestamp": "2014-01-02T00:00:00+00:00"},
        {"_id": "d", "_timestamp": "2014-01-03T12:00:00+00:00"}
      ]}
      """
    And no row has a period key
    And every row has an "_updated_at" ending "+00:00"

  Scenario: the legacy address by data-set name
    When I GET "/visits?filter_by=channel:web" on the read app
    Then the status is 200
    And the JSON at "data.0._id" is "c"
    And the JSON at "data.1._id" is "b"
    And the response has 2 data rows

  Scenario: filter_by matches strings, numbers and booleans
    When I GET "/data/site/visits?filter_by=count:3" on the read app
    Then the JSON at "data.0._id" is "a"
    And the JSON at "data.1._id" is "d"
    And the response has 2 data rows
    When I GET "/data/site/visits?filter_by=paid:true" on the read app
    Then the JSON at "data.0._id" is "b"
    And the response has 1 data rows

  Scenario: several filters all apply
    When I GET "/data/site/visits?filter_by=channel:web&filter_by=count:9" on the read app
    Then the JSON at "data.0._id" is "b"
    And the response has 1 data rows

  Scenario: filter_by_prefix matches the start of a string, literally
    When I GET "/data/site/visits?filter_by_prefix=path:/foo" on the read app
    Then the response has 2 data rows
    When I GET "/data/site/visits?filter_by_prefix=path:.*" on the read app
    Then the response has 0 data rows

  Scenario: start_at is inclusive and end_at exclusive
    When I GET "/data/site/visits?start_at=2014-01-02T00:00:00Z&end_at=2014-01-03T12:00:00Z" on the read app
    Then the response has 2 data rows

  Scenario: inclusive=true makes end_at inclusive
    When I GET "/data/site/visits?start_at=2014-01-02T00:00:00Z&end_at=2014-01-03T12:00:00Z&inclusive=true" on the read app
    Then the response has 3 data rows

  Scenario: times with an offset are compared in UTC
    When I GET "/data/site/visits?start_at=2014-01-01T00:00:00%2B01:00&end_at=2014-01-01T00:00:00Z" on the read app
    Then the JSON at "data.0._id" is "c"
    And the response has 1 data rows

  Scenario: sort_by and limit
    When I GET "/data/site/visits?filter_by=channel:web&sort_by=count:descending" on the read app
    Then the JSON at "data.0._id" is "b"
    And the JSON at "data.1._id" is "c"
    When I GET "/data/site/visits?sort_by=_id:descending&limit=2" on the read app
    Then the JSON at "data.0._id" is "d"
    And the JSON at "data.1._id" is "c"
    And the response has 2 data rows

  Scenario: limit=0 gives no rows
    When I GET "/data/site/visits?limit=0" on the read app
    Then the status is 200
    And the JSON response is
      """
      {"data": []}
      """

  Scenario: raw queries can be switched off per data set
    Given a data set "private" exists with config
      """
      {"raw_queries_allowed": false}
      """
    When I GET "/private" on the read app
    Then the status is 400
    And the message is "querying for raw data is not allowed"
