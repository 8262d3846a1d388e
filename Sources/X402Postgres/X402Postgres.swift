// PostgreSQL stores for payment state and settlements (in progress).
import X402
