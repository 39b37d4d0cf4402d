Feature: rollups
  A data set that declares dimensions and measures answers the grouped
  queries they cover from partial sums kept up to date by every write: the
  same answers as from its records.

  Background:
    Given a data set "visits" exists
    And "visits" contains
      """
      [
        {"_timestamp": "2024-01-01T09:00:00Z", "channel": "web", "count": 3},
        {"_timestamp": "2024-01-03T15:30:00Z", "channel": "app", "count": 2},
        {"_timestamp": "2024-01-09T08:00:00Z", "channel": "web", "count": 4},
        {"_timestamp": "2024-01-10T23:59:59Z", "channel": "web", "count": 1.5},
        {"_timestamp": "2024-01-16T12:00:00Z", "channel": "app", "count": null}
      ]
      """

  Scenario: a weekly grouped sum is the same before and after declaring a rollup, and follows writes
    When I GET "/visits?period=week&group_by=channel&collect=count:sum&collect=count:mean&start_at=2024-01-01T00:00:00Z&end_at=2024-01-22T00:00:00Z" on the read app
    Then the JSON response is
      """
      {"data": [
        {"channel": "app", "_count": 2, "_group_count": 2, "count:sum": 2, "count:mean": 2.0, "values": [
          {"_start_at": "2024-01-01T00:00:00+00:00", "_end_at": "2024-01-08T00:00:00+00:00", "_count": 1, "count:sum": 2, "count:mean": 2.0},
          {"_start_at": "2024-01-08T00:00:00+00:00", "_end_at": "2024-01-15T00:00:00+00:00", "_count": 0, "count:sum": null, "count:mean": null},
          {"_start_at": "2024-01-15T00:00:00+00:00", "_end_at": "2024-01-22T00:00:00+00:00", "_count": 1, "count:sum": null, "count:mean": null}]},
        {"channel": "web", "_count": 3, "_group_count": 2, "count:sum": 8.5, "count:mean": 2.8333333333333335, "values": [
          {"_start_at": "2024-01-01T00:00:00+00:00", "_end_at": "2024-01-08T00:00:00+00:00", "_count": 1, "count:sum": 3, "count:mean": 3.0},
          {"_start_at": "2024-01-08T00:00:00+00:00", "_end_at": "2024-01-15T00:00:00+00:00", "_count": 2, "count:sum": 5.5, "count:mean": 2.75},
          {"_start_at": "2024-01-15T00:00:00+00:00", "_end_at": "2024-01-22T00:00:00+00:00", "_count": 0, "count:sum": null, "count:mean": null}]}
      ]}
      """
    And I remember the JSON response
    When I PATCH "/data-sets/visits" on the write app as admin
      """
      {"dimensions": ["channel"], "measures": ["count"]}
      """
    Then the status is 200
    And the rollup of "visits" is built
    When I GET "/visits?period=week&group_by=channel&collect=count:sum&collect=count:mean&start_at=2024-01-01T00:00:00Z&end_at=2024-01-22T00:00:00Z" on the read app
    Then the JSON response is the one remembered
    When I POST "/data/visits/visits" on the write app with the token of "visits"
      """
      [{"_timestamp": "2024-01-16T13:00:00Z", "channel": "web", "count": 10}]
      """
    And I GET "/visits?period=week&group_by=channel&collect=count:sum&start_at=2024-01-15T00:00:00Z&end_at=2024-01-22T00:00:00Z" on the read app
    Then the JSON response is
      """
      {"data": [
        {"channel": "app", "_count": 1, "_group_count": 1, "count:sum": null, "values": [
          {"_start_at": "2024-01-15T00:00:00+00:00", "_end_at": "2024-01-22T00:00:00+00:00", "_count": 1, "count:sum": null}]},
        {"channel": "web", "_count": 1, "_group_count": 1, "count:sum": 10, "values": [
          {"_start_at": "2024-01-15T00:00:00+00:00", "_end_at": "2024-01-22T00:00:00+00:00", "_count": 1, "count:sum": 10}]}
      ]}
      """
