/// A machine-readable failure reason (`invalidReason` / `errorReason`).
///
/// Known reasons from the spec, the reference SDKs and x402-rs are available as constants; any
/// other string received from another implementation is carried unchanged (``isKnown`` is then
/// `false`). Only ``permit2AllowanceRequired`` changes protocol behaviour (HTTP 412).
public struct ErrorReason: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public init(_ value: String) { self.rawValue = value }

    public var description: String { rawValue }

    /// Whether this reason is in the catalogue.
    public var isKnown: Bool { ErrorReason.catalogue.contains(rawValue) }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

extension ErrorReason {
    // MARK: Protocol level (spec)
    public static let insufficientFunds: ErrorReason = "insufficient_funds"
    public static let invalidNetwork: ErrorReason = "invalid_network"
    public static let invalidPayload: ErrorReason = "invalid_payload"
    public static let invalidPaymentRequirements: ErrorReason = "invalid_payment_requirements"
    public static let invalidScheme: ErrorReason = "invalid_scheme"
    public static let unsupportedScheme: ErrorReason = "unsupported_scheme"
    public static let invalidX402Version: ErrorReason = "invalid_x402_version"
    public static let invalidTransactionState: ErrorReason = "invalid_transaction_state"
    public static let unexpectedVerifyError: ErrorReason = "unexpected_verify_error"
    public static let unexpectedSettleError: ErrorReason = "unexpected_settle_error"
    public static let duplicateSettlement: ErrorReason = "duplicate_settlement"
    public static let invalidPayment: ErrorReason = "invalid_payment"
    public static let paymentExpired: ErrorReason = "payment_expired"
    public static let networkMismatch: ErrorReason = "network_mismatch"
    public static let unsupportedPayloadType: ErrorReason = "unsupported_payload_type"
    public static let noFacilitatorForNetwork: ErrorReason = "no_facilitator_for_network"
    public static let transactionFailed: ErrorReason = "transaction_failed"
    public static let settlementPending: ErrorReason = "settlement_pending"

    // MARK: exact on EVM (TypeScript reference strings)
    public static let exactEVMScheme: ErrorReason = "invalid_exact_evm_scheme"
    public static let exactEVMNetworkMismatch: ErrorReason = "invalid_exact_evm_network_mismatch"
    public static let exactEVMMissingEIP712Domain: ErrorReason = "invalid_exact_evm_missing_eip712_domain"
    public static let exactEVMFailedToGetNetworkConfig: ErrorReason = "invalid_exact_evm_failed_to_get_network_config"
    public static let exactEVMPayload: ErrorReason = "invalid_exact_evm_payload"
    public static let exactEVMPayloadMissingSignature: ErrorReason = "invalid_exact_evm_payload_missing_signature"
    public static let exactEVMSignatureFormat: ErrorReason = "invalid_exact_evm_signature_format"
    public static let exactEVMRequiredAmount: ErrorReason = "invalid_exact_evm_required_amount"
    public static let exactEVMRecipientMismatch: ErrorReason = "invalid_exact_evm_recipient_mismatch"
    public static let exactEVMAuthorizationValue: ErrorReason = "invalid_exact_evm_authorization_value"
    public static let exactEVMAuthorizationValueMismatch: ErrorReason = "invalid_exact_evm_payload_authorization_value_mismatch"
    public static let exactEVMValidBefore: ErrorReason = "invalid_exact_evm_payload_authorization_valid_before"
    public static let exactEVMValidAfter: ErrorReason = "invalid_exact_evm_payload_authorization_valid_after"
    public static let exactEVMSignature: ErrorReason = "invalid_exact_evm_signature"
    public static let exactEVMPayloadSignature: ErrorReason = "invalid_exact_evm_payload_signature"
    public static let exactEVMFailedToVerifySignature: ErrorReason = "invalid_exact_evm_failed_to_verify_signature"
    public static let exactEVMUndeployedSmartWallet: ErrorReason = "invalid_exact_evm_payload_undeployed_smart_wallet"
    public static let exactEVMEIP3009NotSupported: ErrorReason = "invalid_exact_evm_eip3009_not_supported"
    public static let exactEVMNonceAlreadyUsed: ErrorReason = "invalid_exact_evm_nonce_already_used"
    public static let exactEVMTokenNameMismatch: ErrorReason = "invalid_exact_evm_token_name_mismatch"
    public static let exactEVMTokenVersionMismatch: ErrorReason = "invalid_exact_evm_token_version_mismatch"
    public static let exactEVMInsufficientBalance: ErrorReason = "invalid_exact_evm_insufficient_balance"
    public static let exactEVMSimulationFailed: ErrorReason = "invalid_exact_evm_transaction_simulation_failed"
    public static let exactEVMTransactionFailed: ErrorReason = "invalid_exact_evm_transaction_failed"
    public static let exactEVMPayloadRecipientMismatch: ErrorReason = "invalid_exact_evm_payload_recipient_mismatch"
    public static let smartWalletDeploymentFailed: ErrorReason = "smart_wallet_deployment_failed"

    // MARK: facilitator limits (swift-x402)
    /// The token is neither in the asset registry nor on the operator's allowlist.
    public static let assetNotAccepted: ErrorReason = "asset_not_accepted"
    /// The payment's amount is zero (x402-rs string).
    public static let invalidPaymentAmount: ErrorReason = "invalid_payment_amount"
    /// The authorization pays its own signer (`from == to`).
    public static let selfPayment: ErrorReason = "self_payment"
    /// Settling would need more gas than the facilitator's ceiling.
    public static let gasLimitExceeded: ErrorReason = "gas_limit_exceeded"
    /// The network's fee is above the facilitator's maximum fee per gas.
    public static let feeAboveCap: ErrorReason = "fee_above_cap"
    /// An ERC-6492 deployment names a factory outside the facilitator's allowlist.
    public static let erc6492FactoryNotAllowed: ErrorReason = "erc6492_factory_not_allowed"
    /// The node's answer (fee, gas) is outside any sane range and was refused.
    public static let implausibleNodeAnswer: ErrorReason = "implausible_node_answer"
    /// Too many requests from one client or for one payer.
    public static let rateLimited: ErrorReason = "rate_limited"

    // MARK: Permit2
    public static let permit2AllowanceRequired: ErrorReason = "permit2_allowance_required"
    public static let permit2InvalidSpender: ErrorReason = "invalid_permit2_spender"
    public static let permit2RecipientMismatch: ErrorReason = "invalid_permit2_recipient_mismatch"
    public static let permit2DeadlineExpired: ErrorReason = "permit2_deadline_expired"
    public static let permit2NotYetValid: ErrorReason = "permit2_not_yet_valid"
    public static let permit2AmountMismatch: ErrorReason = "permit2_amount_mismatch"
    public static let permit2TokenMismatch: ErrorReason = "permit2_token_mismatch"
    public static let permit2InvalidSignature: ErrorReason = "invalid_permit2_signature"
    public static let permit2SimulationFailed: ErrorReason = "permit2_simulation_failed"
    public static let permit2InsufficientBalance: ErrorReason = "permit2_insufficient_balance"
    public static let permit2ProxyNotDeployed: ErrorReason = "permit2_proxy_not_deployed"

    // MARK: exact on Solana (TypeScript reference strings; the last group named here or by newer SDKs)
    public static let exactSVMMissingFeePayer: ErrorReason = "invalid_exact_svm_payload_missing_fee_payer"
    public static let exactSVMFeePayerNotManaged: ErrorReason = "fee_payer_not_managed_by_facilitator"
    public static let exactSVMTransactionCouldNotBeDecoded: ErrorReason = "invalid_exact_svm_payload_transaction_could_not_be_decoded"
    public static let exactSVMUnsupportedTransactionVersion: ErrorReason = "unsupported_transaction_version"
    public static let exactSVMInstructionsLength: ErrorReason = "invalid_exact_svm_payload_transaction_instructions_length"
    public static let exactSVMComputeLimitInstruction: ErrorReason =
        "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction"
    public static let exactSVMComputeLimitTooHigh: ErrorReason =
        "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction_too_high"
    public static let exactSVMComputePriceInstruction: ErrorReason =
        "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction"
    public static let exactSVMComputePriceTooHigh: ErrorReason =
        "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high"
    public static let exactSVMNoTransferInstruction: ErrorReason = "invalid_exact_svm_payload_no_transfer_instruction"
    public static let exactSVMFeePayerTransferringFunds: ErrorReason = "invalid_exact_svm_payload_transaction_fee_payer_transferring_funds"
    public static let exactSVMMintMismatch: ErrorReason = "invalid_exact_svm_payload_mint_mismatch"
    public static let exactSVMRecipientMismatch: ErrorReason = "invalid_exact_svm_payload_recipient_mismatch"
    public static let exactSVMAmountMismatch: ErrorReason = "invalid_exact_svm_payload_amount_mismatch"
    public static let exactSVMUnknownFourthInstruction: ErrorReason = "invalid_exact_svm_payload_unknown_fourth_instruction"
    public static let exactSVMUnknownFifthInstruction: ErrorReason = "invalid_exact_svm_payload_unknown_fifth_instruction"
    public static let exactSVMUnknownSixthInstruction: ErrorReason = "invalid_exact_svm_payload_unknown_sixth_instruction"
    public static let exactSVMUnknownSeventhInstruction: ErrorReason = "invalid_exact_svm_payload_unknown_seventh_instruction"
    public static let exactSVMMemoCount: ErrorReason = "invalid_exact_svm_payload_memo_count"
    public static let exactSVMMemoMismatch: ErrorReason = "invalid_exact_svm_payload_memo_mismatch"
    public static let exactSVMFeePayerInInstructionAccounts: ErrorReason =
        "invalid_exact_svm_payload_transaction_fee_payer_included_in_instruction_accounts"
    public static let exactSVMFeePayerMismatch: ErrorReason = "invalid_exact_svm_payload_transaction_fee_payer_mismatch"
    public static let exactSVMSignatureInvalid: ErrorReason = "invalid_exact_svm_payload_signature_invalid"
    public static let exactSVMMintExtensionNotSupported: ErrorReason = "invalid_exact_svm_payload_mint_extension_not_supported"
    public static let exactSVMBlockHeightExceeded: ErrorReason = "settle_exact_svm_block_height_exceeded"
    public static let transactionSimulationFailed: ErrorReason = "transaction_simulation_failed"
    public static let verificationFailed: ErrorReason = "verification_failed"

    // MARK: upto
    public static let uptoSettlementExceedsAmount: ErrorReason = "invalid_upto_evm_payload_settlement_exceeds_amount"

    // MARK: x402-rs
    public static let invalidFormat: ErrorReason = "invalid_format"
    public static let acceptedRequirementsMismatch: ErrorReason = "accepted_requirements_mismatch"
    public static let unsupportedChain: ErrorReason = "unsupported_chain"
    public static let unexpectedError: ErrorReason = "unexpected_error"

    /// Every reason string found in the spec, the reference SDKs (TS, Go, Python) and x402-rs.
    public static let catalogue: Set<String> = [
        // spec v1/v2
        "insufficient_funds", "invalid_exact_evm_payload_authorization_valid_after",
        "invalid_exact_evm_payload_authorization_valid_before", "invalid_exact_evm_payload_authorization_value_mismatch",
        "invalid_exact_evm_payload_authorization_value", "invalid_exact_evm_payload_signature",
        "invalid_exact_evm_payload_recipient_mismatch", "invalid_network", "invalid_payload",
        "invalid_payment_requirements", "invalid_scheme", "unsupported_scheme", "invalid_x402_version",
        "invalid_transaction_state", "unexpected_verify_error", "unexpected_settle_error", "duplicate_settlement",
        "invalid_upto_evm_payload_settlement_exceeds_amount", "permit2_allowance_required",
        // legacy v1 TS enum
        "invalid_exact_evm_payload_undeployed_smart_wallet", "invalid_exact_svm_payload_transaction",
        "invalid_exact_svm_payload_transaction_amount_mismatch", "invalid_exact_svm_payload_transaction_create_ata_instruction",
        "invalid_exact_svm_payload_transaction_create_ata_instruction_incorrect_payee",
        "invalid_exact_svm_payload_transaction_create_ata_instruction_incorrect_asset",
        "invalid_exact_svm_payload_transaction_instructions", "invalid_exact_svm_payload_transaction_instructions_length",
        "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction",
        "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction",
        "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high",
        "invalid_exact_svm_payload_transaction_instruction_not_spl_token_transfer_checked",
        "invalid_exact_svm_payload_transaction_instruction_not_token_2022_transfer_checked",
        "invalid_exact_svm_payload_transaction_fee_payer_included_in_instruction_accounts",
        "invalid_exact_svm_payload_transaction_fee_payer_transferring_funds",
        "invalid_exact_svm_payload_transaction_not_a_transfer_instruction",
        "invalid_exact_svm_payload_transaction_receiver_ata_not_found", "invalid_exact_svm_payload_transaction_sender_ata_not_found",
        "invalid_exact_svm_payload_transaction_simulation_failed", "invalid_exact_svm_payload_transaction_transfer_to_incorrect_ata",
        "invalid_payment", "payment_expired", "settle_exact_svm_block_height_exceeded",
        "settle_exact_svm_transaction_confirmation_timed_out",
        // exact EVM (TS / Go / Python)
        "invalid_exact_evm_scheme", "invalid_exact_evm_network_mismatch", "network_mismatch",
        "invalid_exact_evm_missing_eip712_domain", "missing_eip712_domain", "invalid_exact_evm_failed_to_get_network_config",
        "invalid_exact_evm_payload", "invalid_exact_evm_payload_missing_signature", "invalid_exact_evm_signature_format",
        "invalid_exact_evm_required_amount", "invalid_exact_evm_recipient_mismatch", "invalid_exact_evm_authorization_value",
        "invalid_exact_evm_signature", "invalid_exact_evm_failed_to_verify_signature", "invalid_exact_evm_eip3009_not_supported",
        "invalid_exact_evm_nonce_already_used", "invalid_exact_evm_token_name_mismatch", "invalid_exact_evm_token_version_mismatch",
        "invalid_exact_evm_insufficient_balance", "invalid_exact_evm_transaction_simulation_failed",
        "invalid_exact_evm_transaction_failed", "transaction_failed", "invalid_exact_evm_verification_failed",
        "invalid_exact_evm_failed_to_parse_signature", "invalid_exact_evm_failed_to_check_deployment",
        "invalid_exact_evm_failed_to_execute_transfer", "invalid_exact_evm_failed_to_get_receipt", "smart_wallet_deployment_failed",
        "unsupported_payload_type",
        // Permit2 and gas sponsoring
        "invalid_permit2_spender", "invalid_permit2_recipient_mismatch", "permit2_deadline_expired", "permit2_not_yet_valid",
        "permit2_amount_mismatch", "permit2_token_mismatch", "invalid_permit2_signature", "permit2_simulation_failed",
        "permit2_insufficient_balance", "permit2_proxy_not_deployed", "permit2_invalid_amount", "permit2_invalid_destination",
        "permit2_invalid_owner", "permit2_payment_too_early", "permit2_invalid_nonce", "permit2_2612_amount_mismatch",
        "invalid_eip2612_extension_format", "eip2612_from_mismatch", "eip2612_asset_mismatch", "eip2612_spender_not_permit2",
        "eip2612_deadline_expired", "invalid_erc20_approval_extension_format", "erc20_approval_from_mismatch",
        "erc20_approval_asset_mismatch", "erc20_approval_spender_not_permit2", "erc20_approval_tx_wrong_target",
        "erc20_approval_tx_wrong_selector", "erc20_approval_tx_wrong_spender", "erc20_approval_tx_invalid_calldata",
        "erc20_approval_tx_signer_mismatch", "erc20_approval_tx_invalid_signature", "erc20_approval_tx_parse_failed",
        "erc20_approval_tx_failed", "erc20_approval_insufficient_eth_for_gas", "erc20_approval_broadcast_failed",
        // upto
        "invalid_upto_evm_scheme", "invalid_upto_evm_network_mismatch", "upto_facilitator_mismatch",
        "upto_amount_exceeds_permitted", "upto_unauthorized_facilitator", "invalid_upto_evm_transaction_failed",
        "invalid_upto_evm_failed_to_get_network_config",
        // exact SVM (TS / Python)
        "invalid_exact_svm_payload_missing_fee_payer", "fee_payer_not_managed_by_facilitator",
        "invalid_exact_svm_payload_transaction_could_not_be_decoded", "invalid_exact_svm_payload",
        "invalid_exact_svm_payload_no_transfer_instruction", "invalid_exact_svm_payload_mint_mismatch",
        "invalid_exact_svm_payload_recipient_mismatch", "invalid_exact_svm_payload_amount_mismatch",
        "invalid_exact_svm_payload_amount_insufficient", "invalid_exact_svm_payload_unknown_fourth_instruction",
        "invalid_exact_svm_payload_unknown_fifth_instruction", "invalid_exact_svm_payload_unknown_sixth_instruction",
        "invalid_exact_svm_payload_unknown_optional_instruction", "invalid_exact_svm_payload_memo_count",
        "invalid_exact_svm_payload_memo_mismatch", "transaction_simulation_failed", "verification_failed",
        "invalid_exact_svm_payload_unknown_seventh_instruction",
        "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction_too_high",
        "invalid_exact_svm_payload_signature_invalid", "unsupported_transaction_version",
        // exact SVM (named here: rules the TS code leaves to simulation)
        "invalid_exact_svm_payload_transaction_fee_payer_mismatch", "invalid_exact_svm_payload_mint_extension_not_supported",
        // exact SVM (Go)
        "invalid_exact_solana_unsupported_scheme", "invalid_exact_solana_network_mismatch",
        "invalid_exact_solana_payload_missing_fee_payer", "invalid_exact_solana_fee_payer_not_managed_by_facilitator",
        "invalid_exact_solana_payload_transaction_could_not_be_decoded", "invalid_exact_solana_payload_transaction",
        "invalid_exact_solana_payload_transaction_instructions_length",
        "invalid_exact_solana_payload_transaction_instructions_compute_limit_instruction",
        "invalid_exact_solana_payload_transaction_instructions_compute_price_instruction",
        "invalid_exact_solana_payload_transaction_instructions_compute_price_instruction_too_high",
        "invalid_exact_solana_payload_no_transfer_instruction", "invalid_exact_solana_payload_transaction_fee_payer_transferring_funds",
        "invalid_exact_solana_payload_mint_mismatch", "invalid_exact_solana_payload_recipient_mismatch",
        "invalid_exact_solana_payload_amount_insufficient", "invalid_exact_solana_payload_unknown_fourth_instruction",
        "invalid_exact_solana_payload_unknown_fifth_instruction", "invalid_exact_solana_payload_unknown_sixth_instruction",
        "invalid_exact_solana_payload_memo_count", "invalid_exact_solana_payload_memo_mismatch",
        "invalid_exact_solana_invalid_fee_payer", "invalid_exact_solana_transaction_signing_failed",
        "invalid_exact_solana_transaction_simulation_failed", "invalid_exact_solana_transaction_failed",
        "invalid_exact_solana_transaction_confirmation_failed", "invalid_exact_solana_fee_payer_mismatch",
        "invalid_exact_solana_verification_failed",
        // core / framework level
        "before_verify_hook_error", "before_settle_hook_error", "invalid_version", "invalid_v1_payload",
        "invalid_v1_requirements", "invalid_v2_payload", "invalid_v2_requirements", "no_facilitator_for_network",
        "invalid_response", "payment_required", "scheme_mismatch", "signature_invalid", "settlement_failed",
        "unsupported_network", "settlement_pending",
        // x402-rs
        "invalid_format", "invalid_payment_amount", "invalid_payment_early", "invalid_payment_expired", "chain_id_mismatch",
        "recipient_mismatch", "asset_mismatch", "accepted_requirements_mismatch", "invalid_signature", "transaction_simulation",
        "unsupported_chain", "unexpected_error",
        // cloudflare:402
        "blocked", "price_not_acceptable", "payment_failed", "signature_agent_unknown", "invalid_payment_signature",
        "origin_error", "unknown",
        // swift-x402 facilitator limits
        "asset_not_accepted", "self_payment", "gas_limit_exceeded", "fee_above_cap", "erc6492_factory_not_allowed",
        "implausible_node_answer", "rate_limited",
    ]
}
