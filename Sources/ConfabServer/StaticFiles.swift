import Foundation

/// Serves files from the web root, refusing any path that could leave it.
///
/// Files are read once and kept in memory; a changed modification time reloads one,
/// so editing the page needs no restart and serving needs no read on the hot path.
final class StaticFiles {
    struct File {
        let body: [UInt8]
        let contentType: String
        let modified: Date
    }

    /// Bigger files are not what a chat page is made of; refusing them bounds the cache.
    static let maxFileBytes = 4 << 20
    let root: URL
    private var cache: [String: File] = [:]

    init(root: String) {
        self.root = URL(fileURLWithPath: root, isDirectory: true).standardizedFileURL.resolvingSymlinksInPath()
    }

    /// A safe relative path: plain names joined by "/", no "..", no hidden files, no
    /// absolute paths, no backslashes or control characters (checked after percent-decoding).
    static func isSafe(_ relative: String) -> Bool {
        guard !relative.isEmpty, !relative.hasPrefix("/") else { return false }
        for part in relative.split(separator: "/", omittingEmptySubsequences: false) {
            guard !part.isEmpty, !part.hasPrefix(".") else { return false }
            for scalar in part.unicodeScalars {
                let ok = scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar)
                guard ok, scalar.isASCII else { return false }
            }
        }
        return true
    }

    /// The file at `relative` under the root, or nil if it is unsafe, missing or too big.
    func file(_ relative: String) -> File? {
        guard Self.isSafe(relative) else { return nil }
        let url = root.appendingPathComponent(relative).resolvingSymlinksInPath()
        // A symlink inside the root may still point outside it.
        guard url.path.hasPrefix(root.path + "/") else { return nil }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
              (attributes[.type] as? FileAttributeType) == .typeRegular,
              let size = attributes[.size] as? Int, size <= Self.maxFileBytes,
              let modified = attributes[.modificationDate] as? Date
        else { return nil }
        if let cached = cache[relative], cached.modified == modified { return cached }
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let file = File(body: [UInt8](data), contentType: Self.contentType(of: relative), modified: modified)
        cache[relative] = file
        return file
    }

    static func contentType(of path: String) -> String {
        let ext = path.split(separator: ".").last.map { $0.lowercased() } ?? ""
        switch ext {
        case "html", "htm": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "json", "map": return "application/json"
        case "webmanifest": return "application/manifest+json"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "ico": return "image/x-icon"
        case "woff2": return "font/woff2"
        case "woff": return "font/woff"
        case "txt", "md": return "text/plain; charset=utf-8"
        default: return "application/octet-stream"
        }
    }
}
