public import X402Solana
