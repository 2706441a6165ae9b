"""assistant: offline voice shopping assistant framework."""
