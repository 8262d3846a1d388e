print("x402-bench")
