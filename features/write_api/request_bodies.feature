Feature: request bodies are size-bounded, gzip included
  The write app runs with BACKDROP_MAX_BODY_BYTES of 1 MiB here.

  Background:
    Given a data set "things" exists with config
      """
      {"data_group": "group", "data_type": "type"}
      """

  Scenario: a gzipped body is accepted
    Given the request body is gzipped
      """
      [{"_id": "a", "value": 1}, {"_id": "b", "value": 2}]
      """
    When I POST "/data/group/type" on the write app with the token of "things"
    Then the status is 200
    And "things" holds 2 records

  Scenario: a gzip bomb is refused without being inflated
    Given the request body is a gzip bomb inflating to 512 MiB
    When I POST "/data/group/type" on the write app with the token of "things"
    Then the status is 413
    And the message is "Request body once decompressed is too large: the limit is 1048576 bytes"
    And "things" holds 0 records

  Scenario: a body over the limit
    Given the request body is a JSON list of 2 MiB
    When I POST "/data/group/type" on the write app with the token of "things"
    Then the status is 413
    And the JSON at "status" is "error"

  Scenario: a body that is not gzip though it says so
    Given the request header "Content-Encoding" is "gzip"
    When I POST "/data/group/type" on the write app with the token of "things"
      """
      [{"value": 1}]
      """
    Then the status is 400
    And the message starts with "Error decompressing gzip body"

  Scenario: a chunked body within the limit
    When I POST a chunked body of 10 KiB to "/data/group/type" with the token of "things"
    Then the status is 200

  Scenario: a chunked body over the limit
    When I POST a chunked body of 2048 KiB to "/data/group/type" with the token of "things"
    Then the status is 413
    And the message is "Request body is too large: the limit is 1048576 bytes"
