Feature: grouping
  Records are counted and their values collected per combination of fields,
  inside the database.

  Background:
    Given a data set "sales" exists
    And "sales" contains
      """
      [
        {"channel": "web", "region": "north", "amount": 10, "product": "tea"},
        {"channel": "web", "region": "south", "amount": 5, "product": "cake"},
        {"channel": "web", "region": "north", "amount": null, "product": "tea"},
        {"channel": "app", "region": "north", "amount": 4.5, "product": "scone"},
        {"channel": null, "region": "south", "amount": 100},
        {"region": "east", "amount": 100}
      ]
      """

  Scenario: one row per group, sorted by the group field, records without it left out
    When I GET "/sales?group_by=channel" on the read app
    Then the status is 200
    And the JSON response is
      """
      {"data": [{"channel": "app", "_count": 1}, {"channel": "web", "_count": 3}]}
      """

  Scenario: grouping by two fields
    When I GET "/sales?group_by=channel&group_by=region" on the read app
    Then the JSON response is
      """
      {"data": [
        {"channel": "app", "region": "north", "_count": 1},
        {"channel": "web", "region": "north", "_count": 2},
        {"channel": "web", "region": "south", "_count": 1}
      ]}
      """

  Scenario: collect sum, count, set and mean over the values present
    When I GET "/sales?group_by=channel&collect=amount:sum&collect=amount:count&collect=amount:mean&collect=product:set" on the read app
    Then the JSON response is
      """
      {"data": [
        {"channel": "app", "_count": 1, "amount:sum": 4.5, "amount:count": 1, "amount:mean": 4.5, "product:set": ["scone"]},
        {"channel": "web", "_count": 3, "amount:sum": 15, "amount:count": 3, "amount:mean": 7.5, "product:set": ["cake", "tea"]}
      ]}
      """

  Scenario: the legacy collect form is a set, repeated under the plain field name
    When I GET "/sales?group_by=region&collect=product" on the read app
    Then the JSON response is
      """
      {"data": [
        {"region": "east", "_count": 1, "product:set": [], "product": []},
        {"region": "north", "_count": 3, "product:set": ["scone", "tea"], "product": ["scone", "tea"]},
        {"region": "south", "_count": 2, "product:set": ["cake"], "product": ["cake"]}
      ]}
      """

  Scenario: sort_by any key of the row, then limit
    When I GET "/sales?group_by=region&collect=amount:sum&sort_by=amount:sum:descending&limit=2" on the read app
    Then the JSON response is
      """
      {"data": [
        {"region": "south", "_count": 2, "amount:sum": 105},
        {"region": "east", "_count": 1, "amount:sum": 100}
      ]}
      """
    When I GET "/sales?group_by=channel&sort_by=_count:descending" on the read app
    Then the JSON at "data.0.channel" is "web"

  Scenario: filters apply before grouping
    When I GET "/sales?group_by=channel&filter_by=region:north" on the read app
    Then the JSON response is
      """
      {"data": [{"channel": "app", "_count": 1}, {"channel": "web", "_count": 2}]}
      """

  Scenario: summing text is refused
    When I GET "/sales?group_by=channel&collect=product:sum" on the read app
    Then the status is 400
    And the message is "invalid collect function"

  Scenario: averaging text is refused
    When I GET "/sales?group_by=channel&collect=product:mean" on the read app
    Then the status is 400
    And the message is "invalid collect function"

  Scenario: sorting by a key no group has is refused
    When I GET "/sales?group_by=channel&sort_by=amount:ascending" on the read app
    Then the status is 400
    And the message starts with "Cannot sort by 'amount'"

  Scenario: an explicit null counts for count and set, a missing field adds nothing
    When I GET "/sales?group_by=region&collect=amount:set&collect=amount:count&collect=product:count" on the read app
    Then the JSON response is
      """
      {"data": [
        {"region": "east", "_count": 1, "amount:set": [100], "amount:count": 1, "product:count": 0},
        {"region": "north", "_count": 3, "amount:set": [null, 4.5, 10], "amount:count": 3, "product:count": 3},
        {"region": "south", "_count": 2, "amount:set": [5, 100], "amount:count": 2, "product:count": 1}
      ]}
      """
