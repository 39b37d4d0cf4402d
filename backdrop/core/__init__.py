"""Storage, query and record logic shared by the read app, write app and worker; no Flask."""
