/// Hummingbird 2 middleware that charges for routes through the core resource server.
public enum X402HummingbirdModule {}
