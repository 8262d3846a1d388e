/// The x402 facilitator service.
public enum X402FacilitatorModule {}
