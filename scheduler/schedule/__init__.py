"""The schedule file: parse it, import it into the database, export the database as one."""
