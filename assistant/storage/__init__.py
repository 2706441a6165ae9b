"""The household database: SQLModel tables on a SQLite file in the data directory."""
