Feature: query validation
  A bad query string gets a 400 with a message naming the first rule it
  breaks, in a fixed order (and, for some rules, a detail saying what is allowed).

  Background:
    Given a data set "visits" exists
    And "visits" contains
      """
      [{"_timestamp": "2014-01-06T09:00:00Z", "channel": "web", "count": 1}]
      """

  Scenario Outline: <rule>
    When I GET "/visits?<query>" on the read app
    Then the status is 400
    And the JSON response contains
      """
      {"status": "error", "message": "<message>"}
      """
    And the header "Access-Control-Allow-Origin" is "*"

    Examples:
      | rule                                    | query                                                                  | message |
      | 1 unknown parameter                     | foo=bar                                                                | An unrecognised parameter was provided |
      | 2 period without a range                | period=day&start_at=2014-01-01T00:00:00Z                               | Either 'duration' or both 'start_at' and 'end_at' are required for a period query |
      | 2 period limit without group_by         | period=day&duration=3&limit=2                                          | A period query can only be limited if it is grouped - please add 'group_by' |
      | 3 start_at not a datetime               | start_at=2014-01-01&end_at=2014-01-08T00:00:00Z                        | start_at is not a valid datetime |
      | 3 end_at not a real date                | start_at=2014-01-01T00:00:00Z&end_at=2014-02-30T00:00:00Z              | end_at is not a valid datetime |
      | 4 filter_by and filter_by_prefix        | filter_by=channel:web&filter_by_prefix=channel:w                       | Cannot use filter_by and filter_by_prefix in the same query |
      | 4 filter_by without a colon             | filter_by=channel                                                      | filter_by must be a field name and value separated by a colon (:) eg. authority:Westminster |
      | 4 filter_by on a $ field                | filter_by=$where:1                                                     | filter_by cannot use a field name starting with $ |
      | 4 filter_by on an invalid field         | filter_by=foo-bar:1                                                    | filter_by field 'foo-bar' is not a valid field name |
      | 5 unknown period                        | period=fortnight&duration=2                                            | Unrecognised grouping for period. Supported periods include: hour, day, week, month, quarter, year |
      | 6 sort_by without a direction           | sort_by=channel                                                        | sort_by must be a field name and sort direction separated by a colon (:) eg. authority:ascending |
      | 6 sort_by unknown direction             | sort_by=channel:up                                                     | Unrecognised sort direction. Supported directions include: ascending, descending |
      | 6 sort_by on a period query             | period=day&duration=2&sort_by=_count:descending                        | Cannot sort for period queries without group_by. Period queries are always sorted by time. |
      | 7 group_by internal field               | group_by=_timestamp                                                    | Cannot group by internal fields, internal fields start with an underscore |
      | 7 group_by invalid field                | group_by=foo-bar                                                       | group_by field 'foo-bar' is not a valid field name |
      | 8 negative limit                        | limit=-1                                                               | limit must be a non-negative integer |
      | 8 duration not an integer               | period=day&duration=two                                                | duration must be a positive integer |
      | 8 duration of zero                      | period=day&duration=0                                                  | duration must be a positive integer |
      | 9 collect without grouping              | collect=count                                                          | collect is only allowed when grouping by group_by or period |
      | 9 unknown collect method                | group_by=channel&collect=count:median                                  | Unknown collection method |
      | 9 collect an internal field             | group_by=channel&collect=_id                                           | Cannot collect internal fields, internal fields start with an underscore |
      | 9 collect a group_by field              | group_by=channel&collect=channel:count                                 | Cannot collect a field that is also in group_by |
      | 10 start, end and duration together     | period=day&duration=2&start_at=2014-01-01T00:00:00Z&end_at=2014-01-08T00:00:00Z | Absolute and relative time cannot be requested at the same time - either ask for 'start_at' and 'end_at', or ask for 'start_at' or 'end_at' with 'duration' |
      | 10 start_at alone                       | start_at=2014-01-01T00:00:00Z                                          | Use of 'start_at' requires 'end_at' or 'duration' |
      | 10 end_at alone                         | end_at=2014-01-01T00:00:00Z                                            | Use of 'end_at' requires 'start_at' or 'duration' |
      | 10 duration without period              | duration=2&group_by=channel                                            | If 'duration' is requested (for relative time), 'period' is required - please add a period (like 'day', 'month' etc) |
      | 11 flatten not a boolean                | flatten=yes                                                            | flatten must be either 'true' or 'false' |
      | 11 inclusive not a boolean              | start_at=2014-01-01T00:00:00Z&end_at=2014-01-08T00:00:00Z&inclusive=1  | inclusive must be either 'true' or 'false' |
      | 11 inclusive without a bound            | inclusive=true                                                         | inclusive can only be used with start_at or end_at |
      | the first broken rule wins              | limit=-1&group_by=_id&foo=bar                                          | An unrecognised parameter was provided |
      | rule 7 comes before rule 8              | limit=-1&group_by=_id                                                  | Cannot group by internal fields, internal fields start with an underscore |

  Scenario Outline: data sets without raw queries: <rule>
    Given a data set "private" exists with config
      """
      {"raw_queries_allowed": false}
      """
    When I GET "/private?<query>" on the read app
    Then the status is 400
    And the message is "<message>"

    Examples:
      | rule                                | query                                                                       | message |
      | no grouping                         | filter_by=channel:web                                                       | querying for raw data is not allowed |
      | bounds not at midnight              | group_by=channel&start_at=2014-01-06T01:00:00Z&end_at=2014-01-20T00:00:00Z  | start_at must be midnight |
      | less than 7 days                    | group_by=channel&start_at=2014-01-06T00:00:00Z&end_at=2014-01-12T00:00:00Z  | The minimum time span for a query is 7 days |
      | week bounds not Mondays             | period=week&start_at=2014-01-07T00:00:00Z&end_at=2014-01-21T00:00:00Z       | start_at must be a monday |
      | month bounds not the first          | period=month&start_at=2014-01-01T00:00:00Z&end_at=2014-02-15T00:00:00Z      | end_at must be midnight on the first day of the month |

  Scenario: data sets without raw queries still answer hourly queries at any hour
    Given a data set "private" exists with config
      """
      {"raw_queries_allowed": false}
      """
    When I GET "/private?period=hour&start_at=2014-01-06T09:00:00Z&end_at=2014-01-06T11:00:00Z" on the read app
    Then the status is 200
    And the response has 2 data rows
