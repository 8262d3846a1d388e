/// The HTML page a browser gets instead of a bare 402: what the resource costs, on which network,
/// to whom, and a button that pays with an EIP-1193 wallet (`eth_signTypedData_v4` of an EIP-3009
/// `TransferWithAuthorization`) and retries the request with `PAYMENT-SIGNATURE`.
public struct Paywall: Sendable {
    /// Shown as the page title.
    public var appName: String
    /// Token decimals and symbols for the price display.
    public var assets: AssetRegistry
    /// Extra markup placed verbatim at the end of `<head>` (the seller's own styles, or a script
    /// that provides `window.ethereum`). It is not escaped: never put request data in it.
    public var headHTML: String

    public init(appName: String = "Payment required", assets: AssetRegistry = .standard, headHTML: String = "") {
        self.appName = appName
        self.assets = assets
        self.headHTML = headHTML
    }

    /// The page for a v2 402 answer.
    public func html(for required: PaymentRequired) -> String {
        let offers = required.accepts.map { offerLine($0) }.joined(separator: "\n")
        let description = required.resource?.description.flatMap { $0.isEmpty ? nil : $0 } ?? required.resource?.url ?? ""
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.escapeHTML(appName))</title>
            <style>
            body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
            .offer{border:1px solid #ccc;border-radius:.5rem;padding:1rem;margin:1rem 0}
            .price{font-size:1.6rem;font-weight:600}
            code{word-break:break-all}
            button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:0;background:#1652f0;color:#fff;cursor:pointer}
            #status{margin-top:1rem;white-space:pre-wrap}
            </style>
            \(headHTML)
            </head>
            <body>
            <h1>\(Self.escapeHTML(appName))</h1>
            <p id="resource">\(Self.escapeHTML(description))</p>
            \(offers)
            <p id="how-to-pay">Pay with a browser wallet (EIP-1193): the wallet signs a USDC transfer authorization
            (<code>eth_signTypedData_v4</code>, EIP-3009); this page then repeats the request with the
            signed payment in the <code>PAYMENT-SIGNATURE</code> header. Nothing moves until the server settles it.
            Programs can pay with any x402 client instead; offers on Solana are paid that way
            (<code>x402 fetch</code>: a partially signed SPL transfer the facilitator co-signs as fee payer).</p>
            <button id="pay" type="button">Connect wallet and pay</button>
            <div id="status" role="status"></div>
            <div id="receipt"></div>
            <script id="x402-payment-required" type="application/json">\(Self.embeddableJSON(required.json))</script>
            <script>
            \(Self.script)
            </script>
            </body>
            </html>
            """
    }

    private func offerLine(_ r: PaymentRequirements) -> String {
        let asset = assets.asset(address: r.asset, on: r.network)
        let amountText: String
        if let atomic = r.atomicAmount {
            let value = Money.format(atomic, decimals: asset?.decimals ?? 6)
            if let symbol = asset?.symbol, symbol.uppercased().hasPrefix("USD") {
                amountText = "$\(value) (\(symbol))"
            } else {
                amountText = "\(value) \(asset?.symbol ?? "tokens")"
            }
        } else {
            amountText = r.amount
        }
        let networkName = r.network.legacyName.map { "\($0) (\(r.network.identifier))" } ?? r.network.identifier
        return """
            <div class="offer" data-scheme="\(Self.escapeHTML(r.scheme))" data-network="\(Self.escapeHTML(r.network.identifier))">
            <div class="price">\(Self.escapeHTML(amountText))</div>
            <div>Network: <span class="network">\(Self.escapeHTML(networkName))</span></div>
            <div>Recipient: <code class="pay-to">\(Self.escapeHTML(r.payTo))</code></div>
            <div>Scheme: \(Self.escapeHTML(r.scheme))</div>
            </div>
            """
    }

    /// Text safe inside HTML elements and quoted attributes.
    static func escapeHTML(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Compact JSON with `<`, `>` and `&` written as `\u003C`, `\u003E`, `\u0026` (and the JavaScript
    /// line separators escaped) so it cannot close the script element it is embedded in.
    static func embeddableJSON(_ json: JSONValue) -> String {
        var out = ""
        for scalar in json.serializedString().unicodeScalars {
            switch scalar {
            case "<": out += "\\u003C"
            case ">": out += "\\u003E"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static let script = #"""
        (function () {
          const required = JSON.parse(document.getElementById("x402-payment-required").textContent);
          window.x402 = { paymentRequired: required, currentUrl: (required.resource && required.resource.url) || location.href };
          const status = document.getElementById("status");
          const say = (t) => { status.textContent = t; };
          const hex = (bytes) => "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
          const b64 = (text) => { const bytes = new TextEncoder().encode(text); let s = ""; bytes.forEach((b) => { s += String.fromCharCode(b); }); return btoa(s); };
          const unb64 = (v) => { const s = atob(v); const bytes = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i); return JSON.parse(new TextDecoder().decode(bytes)); };
          async function pay() {
            const offer = required.accepts.find((a) => a.scheme === "exact" && a.network.startsWith("eip155:"));
            if (!offer) {
              const solana = required.accepts.some((a) => a.network.startsWith("solana:"));
              say(solana ? "Solana offers are paid with an x402 client (e.g. x402 fetch " + window.x402.currentUrl + ")."
                         : "This resource cannot be paid from a browser wallet; use an x402 client.");
              return;
            }
            if (!window.ethereum) { say("No browser wallet (EIP-1193) found."); return; }
            const chainId = Number(offer.network.split(":")[1]);
            const [from] = await window.ethereum.request({ method: "eth_requestAccounts" });
            if (!from) { say("The wallet shared no account."); return; }
            const current = await window.ethereum.request({ method: "eth_chainId" });
            if (Number(current) !== chainId) {
              await window.ethereum.request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x" + chainId.toString(16) }] });
            }
            const now = Math.floor(Date.now() / 1000);
            const authorization = {
              from: from, to: offer.payTo, value: offer.amount,
              validAfter: String(now - 600), validBefore: String(now + (offer.maxTimeoutSeconds || 300)),
              nonce: hex(crypto.getRandomValues(new Uint8Array(32))),
            };
            const typedData = {
              types: {
                EIP712Domain: [
                  { name: "name", type: "string" }, { name: "version", type: "string" },
                  { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" },
                ],
                TransferWithAuthorization: [
                  { name: "from", type: "address" }, { name: "to", type: "address" }, { name: "value", type: "uint256" },
                  { name: "validAfter", type: "uint256" }, { name: "validBefore", type: "uint256" }, { name: "nonce", type: "bytes32" },
                ],
              },
              primaryType: "TransferWithAuthorization",
              domain: { name: (offer.extra || {}).name, version: (offer.extra || {}).version, chainId: chainId, verifyingContract: offer.asset },
              message: authorization,
            };
            say("Waiting for the wallet signature…");
            const signature = await window.ethereum.request({ method: "eth_signTypedData_v4", params: [from, JSON.stringify(typedData)] });
            const payment = { x402Version: 2, resource: required.resource, accepted: offer, payload: { signature: signature, authorization: authorization } };
            if (required.extensions) payment.extensions = required.extensions;
            say("Paying…");
            const response = await fetch(window.x402.currentUrl, { headers: { "PAYMENT-SIGNATURE": b64(JSON.stringify(payment)) } });
            const settle = response.headers.get("PAYMENT-RESPONSE");
            let settlement = null;
            try { if (settle) settlement = unb64(settle); } catch (e) {}
            window.x402.settlement = settlement;
            if (response.ok) {
              if (settlement && settlement.transaction) {
                document.getElementById("receipt").textContent = "Paid on " + (settlement.network || offer.network) + ", transaction " + settlement.transaction;
              }
              const type = response.headers.get("Content-Type") || "";
              if (type.includes("text/html")) { const html = await response.text(); document.open(); document.write(html); document.close(); return; }
              const blob = await response.blob();
              if (type.startsWith("text/") || type.includes("json")) { say(await blob.text()); return; }
              const link = document.createElement("a"); link.href = URL.createObjectURL(blob); link.download = "resource"; link.click();
              say("Paid. The resource was downloaded.");
              return;
            }
            const again = response.headers.get("PAYMENT-REQUIRED");
            let reason = "HTTP " + response.status;
            try { if (settlement) reason = settlement.errorReason || reason; else if (again) reason = unb64(again).error || reason; } catch (e) {}
            say("Payment failed: " + reason);
          }
          let paying = false;
          window.x402.pay = () => {
            if (paying) return Promise.resolve();
            paying = true;
            const button = document.getElementById("pay");
            button.disabled = true;
            return pay().catch((e) => say("Payment failed: " + (e && e.message ? e.message : e))).finally(() => { paying = false; button.disabled = false; });
          };
          document.getElementById("pay").addEventListener("click", () => { window.x402.pay(); });
        })();
        """#
}
