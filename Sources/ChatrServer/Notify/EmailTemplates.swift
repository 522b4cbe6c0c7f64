import Foundation

/// The transactional messages Chatr sends, rendered as branded HTML with a plain-text part, and
/// as SMS text. One place for wording, so email, SMS and the preview page never drift apart.
struct CodeMessage: Sendable {
    enum Kind: String, CaseIterable, Sendable {
        case verifyEmail = "verification"
        case verifyPhone = "phone-verification"
        case login = "login"
        case passwordReset = "password-reset"
    }

    var kind: Kind
    var code: String
    var recipientName: String
    var productName: String
    var frontendURL: String
    var validMinutes: Int

    var subject: String {
        switch kind {
        case .verifyEmail, .verifyPhone: return "Verify your \(productName) account"
        case .login: return "Your \(productName) login code"
        case .passwordReset: return "Reset your \(productName) password"
        }
    }

    private var lead: String {
        switch kind {
        case .verifyEmail, .verifyPhone: return "Welcome to \(productName)! Enter this code to verify your account:"
        case .login: return "Someone is signing in to your \(productName) account. If it's you, enter this code:"
        case .passwordReset: return "We received a request to reset your \(productName) password. Enter this code to choose a new one:"
        }
    }

    private var footer: String {
        "This code expires in \(validMinutes) minutes. If you didn't ask for it, you can ignore this message."
    }

    var text: String {
        "Hi \(recipientName),\n\n\(lead)\n\n    \(code)\n\n\(footer)\n\n— \(productName)\n\(frontendURL)\n"
    }

    var sms: String {
        "\(productName): your code is \(code). It expires in \(validMinutes) minutes. Never share it."
    }

    var html: String {
        let product = HTML.escape(productName)
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <title>\(HTML.escape(subject))</title></head>
        <body style="margin:0;padding:0;background:#f3f4f8;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1f2330">
        <table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="padding:32px 12px">
        <tr><td align="center">
        <table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:480px;background:#ffffff;border-radius:14px;overflow:hidden">
        <tr><td style="background:#5b5bd6;padding:20px 28px;color:#ffffff;font-size:22px;font-weight:700">\(product)</td></tr>
        <tr><td style="padding:28px">
        <p style="margin:0 0 12px">Hi \(HTML.escape(recipientName)),</p>
        <p style="margin:0 0 20px">\(HTML.escape(lead))</p>
        <p style="margin:0 0 20px;text-align:center"><span style="display:inline-block;padding:12px 22px;border-radius:10px;background:#eef0ff;font-size:30px;letter-spacing:8px;font-weight:700;font-family:Menlo,Consolas,monospace">\(HTML.escape(code))</span></p>
        <p style="margin:0;color:#666b7a;font-size:13px">\(HTML.escape(footer))</p>
        </td></tr>
        <tr><td style="padding:16px 28px;background:#fafafc;color:#8a8fa0;font-size:12px"><a href="\(HTML.escape(frontendURL))" style="color:#5b5bd6">\(product)</a> — messaging you host yourself.</td></tr>
        </table></td></tr></table></body></html>
        """
    }
}

enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for char in text {
            switch char {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(char)
            }
        }
        return out
    }
}
