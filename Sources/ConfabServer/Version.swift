/// The release this build calls itself, in logs, /healthz and `confab --version`.
public enum ConfabVersion {
    public static let current = "0.1.0"
}
