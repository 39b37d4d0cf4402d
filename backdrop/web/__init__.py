"""Flask wiring shared by the read and write apps."""
