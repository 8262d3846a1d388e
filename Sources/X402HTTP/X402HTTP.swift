/// HTTP transport for x402: the facilitator client and the paying client.
public enum X402HTTPModule {}
