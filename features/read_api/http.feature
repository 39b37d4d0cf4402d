Feature: HTTP behaviour of reads
  Reads can be made from any web page, are cached according to the data set,
  and can be exported as CSV.

  Background:
    Given a data set "visits" exists with config
      """
      {"data_group": "site", "data_type": "visits"}
      """
    And "visits" contains
      """
      [
        {"_id": "a", "_timestamp": "2014-01-06T09:00:00Z", "channel": "web", "count": 1},
        {"_id": "b", "_timestamp": "2014-01-14T09:00:00Z", "channel": "app", "count": 2}
      ]
      """

  Scenario: an unknown data set
    When I GET "/data/site/nothing" on the read app
    Then the status is 404
    And the JSON response is
      """
      {"status": "error", "message": "data_set not found"}
      """
    And the header "Access-Control-Allow-Origin" is "*"

  Scenario: an unknown data set by legacy name
    When I GET "/nothing" on the read app
    Then the status is 404
    And the message is "data_set not found"

  Scenario: a data set that is not queryable
    Given a data set "hidden" exists with config
      """
      {"queryable": false}
      """
    When I GET "/data/hidden/hidden" on the read app
    Then the status is 404
    And the JSON response is
      """
      {"status": "error", "message": "data_set not found"}
      """

  Scenario: every read may be made cross-origin
    When I GET "/data/site/visits" on the read app
    Then the status is 200
    And the header "Access-Control-Allow-Origin" is "*"

  Scenario: the CORS preflight
    Given the request header "Origin" is "https://dashboard.example"
    And the request header "Access-Control-Request-Method" is "GET"
    And the request header "Access-Control-Request-Headers" is "govuk-request-id"
    When I OPTIONS "/data/site/visits" on the read app
    Then the status is 200
    And the header "Access-Control-Allow-Origin" is "*"
    And the header "Access-Control-Max-Age" is "86400"
    And the header "Access-Control-Allow-Headers" is "cache-control, govuk-request-id, request-id"

  Scenario: published data sets are cached for 30 minutes
    When I GET "/data/site/visits" on the read app
    Then the header "Cache-Control" is "max-age=1800, must-revalidate"

  Scenario: realtime data sets are cached for 2 minutes
    Given a data set "live" exists with config
      """
      {"realtime": true}
      """
    When I GET "/live" on the read app
    Then the header "Cache-Control" is "max-age=120, must-revalidate"

  Scenario: unpublished data sets are not cached and carry a warning
    Given a data set "draft" exists with config
      """
      {"published": false}
      """
    And "draft" contains
      """
      {"channel": "web"}
      """
    When I GET "/draft?group_by=channel" on the read app
    Then the status is 200
    And the header "Cache-Control" is "no-cache"
    And the JSON response is
      """
      {"data": [{"channel": "web", "_count": 1}],
       "warning": "Warning: This data-set is unpublished. Data may be subject to change or be inaccurate."}
      """

  Scenario: every 200 has an ETag, and a matching If-None-Match gets a 304
    When I GET "/data/site/visits?group_by=channel" on the read app
    Then the status is 200
    And the response has an ETag
    Given the request header "If-None-Match" is the ETag of the last response
    When I GET "/data/site/visits?group_by=channel" on the read app
    Then the status is 304
    And the response body is empty
    And the header "Access-Control-Allow-Origin" is "*"

  Scenario: a stale ETag gets the new data
    When I GET "/data/site/visits" on the read app
    Given the request header "If-None-Match" is the ETag of the last response
    And "visits" contains
      """
      {"_id": "c", "_timestamp": "2014-01-15T09:00:00Z", "channel": "web"}
      """
    When I GET "/data/site/visits" on the read app
    Then the status is 200
    And the response has 3 data rows

  Scenario: CSV export of records
    When I GET "/data/site/visits?format=csv&filter_by=channel:web" on the read app
    Then the status is 200
    And the header "Content-Disposition" is "attachment; filename=export.csv"
    And the content type is text/csv
    And the response has an ETag
    And the CSV response, without the "_updated_at" column, is
      """
      _id,_timestamp,channel,count
      a,2014-01-06T09:00:00+00:00,web,1
      """

  Scenario: CSV export of a nested query has one row per group and period
    When I GET "/data/site/visits?format=csv&period=week&group_by=channel&collect=count:sum&start_at=2014-01-06T00:00:00Z&end_at=2014-01-20T00:00:00Z" on the read app
    Then the status is 200
    And the CSV response is
      """
      _count,_end_at,_group_count,_start_at,channel,count:sum
      0,2014-01-13T00:00:00+00:00,1,2014-01-06T00:00:00+00:00,app,
      1,2014-01-20T00:00:00+00:00,1,2014-01-13T00:00:00+00:00,app,2
      1,2014-01-13T00:00:00+00:00,1,2014-01-06T00:00:00+00:00,web,1
      0,2014-01-20T00:00:00+00:00,1,2014-01-13T00:00:00+00:00,web,
      """
