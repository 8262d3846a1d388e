// The `x402` command-line tool; its commands arrive with the buyer, seller and facilitator issues.
print("x402: no commands yet")
