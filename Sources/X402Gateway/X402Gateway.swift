// The paid reverse proxy behind `x402 gateway` (in progress).
import X402
