Feature: uploading files
  Someone with a spreadsheet uploads it to a data set: a CSV or Excel file
  becomes records, checked first, stored whole or not at all, and listed in
  the data set's upload history.

  Background:
    Given a data set "sales" exists

  Scenario: upload a CSV file
    Given a file "sales.csv" with rows
      | _timestamp           | region | units |
      | 2024-01-01T00:00:00Z | north  | 3     |
      | 2024-01-08T00:00:00Z | south  | 5     |
    When I upload it to "sales"
    Then the status is 200
    And the JSON at "upload.records" is 2
    And the records of "sales" are
      | _timestamp                | region | units |
      | 2024-01-01T00:00:00+00:00 | north  | 3     |
      | 2024-01-08T00:00:00+00:00 | south  | 5     |

  Scenario: upload an Excel workbook
    Given a file "sales.xlsx" with rows
      | _timestamp          | region | units |
      | 2024-01-01T09:30:00 | north  | 3     |
    When I upload it to "sales"
    Then the status is 200
    And the records of "sales" are
      | _timestamp                | region | units |
      | 2024-01-01T09:30:00+00:00 | north  | 3     |

  Scenario: upload a legacy .xls workbook
    Given a file "sales.xls" with rows
      | _timestamp          | region | units |
      | 2024-01-01T09:30:00 | north  | 3     |
    When I upload it to "sales"
    Then the status is 200
    And the records of "sales" are
      | _timestamp                | region | units |
      | 2024-01-01T09:30:00+00:00 | north  | 3     |

  Scenario: a dry run shows the columns and stores nothing
    Given "sales" contains
      """
      [{"region": "east", "channel": "web"}]
      """
    And a file "sales.csv" with rows
      | region | units |
      | north  | 3     |
      |        | 4     |
    When I upload it to "sales" as a dry run
    Then the status is 200
    And the JSON response contains
      """
      {"status": "ok", "records": 2,
       "columns": [{"name": "region", "type": "string", "empty": 1},
                   {"name": "units", "type": "number", "empty": 0},
                   {"name": "_id", "type": "string", "empty": 0}],
       "new_columns": ["units"], "missing_columns": ["channel"]}
      """
    And "sales" holds 1 records

  Scenario: a bad file is refused with its row and column, and nothing is stored
    Given a file "sales.csv" containing
      """
      region,units
      north,3
      south,4,9
      """
    When I upload it to "sales"
    Then the status is 400
    And the message is "row 3, column 3: a value past the header"
    And "sales" holds 0 records

  Scenario: a bad date deep in a file stores none of the rows before it
    Given a file "sales.csv" containing
      """
      _timestamp,units
      2024-01-01T00:00:00Z,1
      2024-01-02T00:00:00Z,2
      2024-02-30T00:00:00Z,3
      """
    When I upload it to "sales"
    Then the status is 400
    And the JSON response is
      """
      {"status": "error",
       "messages": ["row 4: 2024-02-30T00:00:00Z in the _timestamp field is not a valid date"],
       "detail": "times are ISO 8601 like 2024-01-01T09:00:00Z or 2024-01-01T09:00:00+01:00 (no offset means UTC)"}
      """
    And "sales" holds 0 records

  Scenario: binary garbage named .csv is refused
    Given a file "sales.csv" of 4096 random bytes
    When I upload it to "sales"
    Then the status is 400
    And the message is "the file holds binary data"

  Scenario: a CSV file named .xlsx is refused
    Given a file "sales.xlsx" containing
      """
      region,units
      north,3
      """
    When I upload it to "sales"
    Then the status is 400
    And the message is "the file is named sales.xlsx but its content is CSV text"

  Scenario: the upload history lists stored uploads
    Given a file "january.csv" with rows
      | region | units |
      | north  | 3     |
    When I upload it to "sales"
    And I list the uploads of "sales"
    Then the status is 200
    And the JSON at "uploads.0.filename" is "january.csv"
    And the JSON at "uploads.0.records" is 1
    And the JSON at "uploads.0.bytes" is 23

  Scenario: an upload triggers the data set's transforms
    Given "sales" has the transform
      """
      {"type": "rollup", "query": {"period": "week", "group_by": ["region"], "collect": ["units:sum"]},
       "output": {"data_group": "sales", "data_type": "weekly"}}
      """
    And a file "sales.csv" with rows
      | _timestamp           | region | units |
      | 2024-01-01T00:00:00Z | north  | 3     |
      | 2024-01-02T00:00:00Z | north  | 4     |
    When I upload it to "sales"
    Then the status is 200
    And "sales_weekly" holds 1 records
