// Vapor 4 middleware over the core resource server (in progress).
import X402
