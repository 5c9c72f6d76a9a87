/// Names that belong to accounts (case-folded), remembered after their sessions end so that
/// nobody else takes an absent account's name. One name per account: a new one frees the old.
struct AccountNames {
    private var owners: [String: String] = [:]  // name key → account id
    private var names: [String: String] = [:]  // account id → name key

    func owner(of nameKey: String) -> String? { owners[nameKey] }

    mutating func claim(_ nameKey: String, for account: String) {
        if let previous = names[account], previous != nameKey { owners.removeValue(forKey: previous) }
        owners[nameKey] = account
        names[account] = nameKey
    }
}
