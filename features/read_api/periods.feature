Feature: time periods
  Records are counted per hour, day, week (from Monday), month, quarter or
  year, in UTC; every period of the range is listed, empty ones too.

  Background:
    Given a data set "visits" exists
    And "visits" contains
      """
      [
        {"_timestamp": "2014-01-06T09:00:00Z", "channel": "web", "count": 1, "tag": "a_a"},
        {"_timestamp": "2014-01-07T09:00:00Z", "channel": "web", "count": 2, "tag": "b_b"},
        {"_timestamp": "2014-01-14T09:00:00Z", "channel": "app", "count": 4, "tag": "a_a"},
        {"_timestamp": "2014-01-21T09:00:00Z", "channel": "web", "count": 8},
        {"_timestamp": "2014-01-22T09:00:00Z", "count": 16}
      ]
      """

  Scenario: period only: every period in time order, empty ones with _count 0 and null collects
    When I GET "/visits?period=week&start_at=2014-01-06T00:00:00Z&end_at=2014-02-03T00:00:00Z&collect=count:sum&collect=tag" on the read app
    Then the status is 200
    And the JSON response is
      """
      {"data": [
        {"_start_at": "2014-01-06T00:00:00+00:00", "_end_at": "2014-01-13T00:00:00+00:00", "_count": 2, "count:sum": 3, "tag:set": ["a_a", "b_b"], "tag": ["a_a", "b_b"]},
        {"_start_at": "2014-01-13T00:00:00+00:00", "_end_at": "2014-01-20T00:00:00+00:00", "_count": 1, "count:sum": 4, "tag:set": ["a_a"], "tag": ["a_a"]},
        {"_start_at": "2014-01-20T00:00:00+00:00", "_end_at": "2014-01-27T00:00:00+00:00", "_count": 2, "count:sum": 24, "tag:set": [], "tag": []},
        {"_start_at": "2014-01-27T00:00:00+00:00", "_end_at": "2014-02-03T00:00:00+00:00", "_count": 0, "count:sum": null, "tag:set": null, "tag": null}
      ]}
      """

  Scenario: months and quarters
    When I GET "/visits?period=month&start_at=2013-12-01T00:00:00Z&end_at=2014-03-01T00:00:00Z" on the read app
    Then the JSON response is
      """
      {"data": [
        {"_start_at": "2013-12-01T00:00:00+00:00", "_end_at": "2014-01-01T00:00:00+00:00", "_count": 0},
        {"_start_at": "2014-01-01T00:00:00+00:00", "_end_at": "2014-02-01T00:00:00+00:00", "_count": 5},
        {"_start_at": "2014-02-01T00:00:00+00:00", "_end_at": "2014-03-01T00:00:00+00:00", "_count": 0}
      ]}
      """
    When I GET "/visits?period=quarter&start_at=2014-01-01T00:00:00Z&end_at=2014-07-01T00:00:00Z" on the read app
    Then the JSON at "data.0._count" is 5
    And the JSON at "data.1._start_at" is "2014-04-01T00:00:00+00:00"
    And the response has 2 data rows

  Scenario: group_by with period nests the periods of each group
    When I GET "/visits?period=week&group_by=channel&start_at=2014-01-06T00:00:00Z&end_at=2014-01-27T00:00:00Z&collect=count:sum&collect=count:mean" on the read app
    Then the status is 200
    And the JSON response is
      """
      {"data": [
        {"channel": "app", "_count": 1, "_group_count": 1, "count:sum": 4, "count:mean": 4.0, "values": [
          {"_start_at": "2014-01-06T00:00:00+00:00", "_end_at": "2014-01-13T00:00:00+00:00", "_count": 0, "count:sum": null, "count:mean": null},
          {"_start_at": "2014-01-13T00:00:00+00:00", "_end_at": "2014-01-20T00:00:00+00:00", "_count": 1, "count:sum": 4, "count:mean": 4.0},
          {"_start_at": "2014-01-20T00:00:00+00:00", "_end_at": "2014-01-27T00:00:00+00:00", "_count": 0, "count:sum": null, "count:mean": null}
        ]},
        {"channel": "web", "_count": 3, "_group_count": 2, "count:sum": 11, "count:mean": 3.6666666666666665, "values": [
          {"_start_at": "2014-01-06T00:00:00+00:00", "_end_at": "2014-01-13T00:00:00+00:00", "_count": 2, "count:sum": 3, "count:mean": 1.5},
          {"_start_at": "2014-01-13T00:00:00+00:00", "_end_at": "2014-01-20T00:00:00+00:00", "_count": 0, "count:sum": null, "count:mean": null},
          {"_start_at": "2014-01-20T00:00:00+00:00", "_end_at": "2014-01-27T00:00:00+00:00", "_count": 1, "count:sum": 8, "count:mean": 8.0}
        ]}
      ]}
      """

  Scenario: sort_by and limit apply to the groups of a nested query
    When I GET "/visits?period=week&group_by=channel&start_at=2014-01-06T00:00:00Z&end_at=2014-01-27T00:00:00Z&sort_by=_count:descending&limit=1" on the read app
    Then the response has 1 data rows
    And the JSON at "data.0.channel" is "web"
    And the JSON at "data.0.values.2._count" is 1

  Scenario: flatten gives one row per group and period, empty periods filled
    When I GET "/visits?period=week&group_by=channel&start_at=2014-01-06T00:00:00Z&end_at=2014-01-20T00:00:00Z&flatten=true&collect=count:sum" on the read app
    Then the JSON response is
      """
      {"data": [
        {"channel": "app", "_start_at": "2014-01-06T00:00:00+00:00", "_end_at": "2014-01-13T00:00:00+00:00", "_count": 0, "count:sum": null},
        {"channel": "app", "_start_at": "2014-01-13T00:00:00+00:00", "_end_at": "2014-01-20T00:00:00+00:00", "_count": 1, "count:sum": 4},
        {"channel": "web", "_start_at": "2014-01-06T00:00:00+00:00", "_end_at": "2014-01-13T00:00:00+00:00", "_count": 2, "count:sum": 3},
        {"channel": "web", "_start_at": "2014-01-13T00:00:00+00:00", "_end_at": "2014-01-20T00:00:00+00:00", "_count": 0, "count:sum": null}
      ]}
      """

  Scenario: duration forward from the period containing start_at
    When I GET "/visits?period=week&duration=2&start_at=2014-01-08T12:00:00Z" on the read app
    Then the JSON response is
      """
      {"data": [
        {"_start_at": "2014-01-06T00:00:00+00:00", "_end_at": "2014-01-13T00:00:00+00:00", "_count": 2},
        {"_start_at": "2014-01-13T00:00:00+00:00", "_end_at": "2014-01-20T00:00:00+00:00", "_count": 1}
      ]}
      """

  Scenario: duration backward from the period containing end_at
    When I GET "/visits?period=day&duration=2&end_at=2014-01-08T12:00:00Z" on the read app
    Then the JSON response is
      """
      {"data": [
        {"_start_at": "2014-01-06T00:00:00+00:00", "_end_at": "2014-01-07T00:00:00+00:00", "_count": 1},
        {"_start_at": "2014-01-07T00:00:00+00:00", "_end_at": "2014-01-08T00:00:00+00:00", "_count": 1}
      ]}
      """

  Scenario: a forward range whose first periods are empty slides to begin with data
    When I GET "/visits?period=week&duration=2&start_at=2013-12-16T00:00:00Z" on the read app
    Then the JSON at "data.0._start_at" is "2014-01-06T00:00:00+00:00"
    And the JSON at "data.0._count" is 2
    And the response has 2 data rows

  Scenario: a backward range whose last periods are empty slides to end with data
    When I GET "/visits?period=day&duration=3&end_at=2014-01-10T00:00:00Z" on the read app
    Then the JSON at "data.2._start_at" is "2014-01-07T00:00:00+00:00"
    And the JSON at "data.2._count" is 1
    And the response has 3 data rows

  Scenario: a nested range slides by the smallest slide over all groups
    When I GET "/visits?period=week&duration=1&group_by=channel&end_at=2014-03-03T00:00:00Z" on the read app
    Then the JSON response contains
      """
      {"data": [
        {"channel": "web", "_count": 1, "values": [{"_start_at": "2014-01-20T00:00:00+00:00", "_count": 1}]}
      ]}
      """

  Scenario: duration backward from now ends with the latest data
    Given a data set "recent" exists
    And "recent" contains a record from 10 days ago
    When I GET "/recent?period=day&duration=2" on the read app
    Then the status is 200
    And the JSON at "data.1._count" is 1
    And the period at "data.1" is the day 10 days ago
    And the JSON at "data.0._count" is 0

  Scenario: inclusive end_at adds the period that starts at end_at
    When I GET "/visits?period=week&start_at=2014-01-06T00:00:00Z&end_at=2014-01-20T00:00:00Z&inclusive=true" on the read app
    Then the response has 3 data rows
