/// SQLite (GRDB) stores for payment state, spend ledgers and settlement records.
public enum X402SQLiteModule {}
