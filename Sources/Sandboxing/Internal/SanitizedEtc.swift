import Glibc

/// The /etc a box sees: a few generated files and the host's dynamic-linker cache, nothing else
/// (no /etc/shadow, no host names, no credentials). Built once per ``Sandbox``.
enum SanitizedEtc {
    static func create(at path: String, binds: [String]) throws(SandboxError) {
        remove(at: path)
        if mkdir(path, 0o755) < 0 {
            throw SandboxError(.hostSetupFailed, "cannot create the sanitized /etc at \(path)", errno: errno)
        }
        let files: [(String, String)] = [
            ("passwd", "root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"),
            ("group", "root:x:0:\nnogroup:x:65534:\n"),
            ("hosts", "127.0.0.1 localhost\n::1 localhost\n"),
            ("hostname", "assay\n"),
            ("nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n"),
        ]
        for (name, text) in files {
            let rc = FileOps.create(path + "/" + name, contents: Array(text.utf8), mode: 0o644)
            if rc != 0 { throw SandboxError(.hostSetupFailed, "cannot write \(path)/\(name)", errno: rc) }
        }
        // Without the cache the dynamic linker still finds libraries in the default paths, only
        // slower; copy it when the host has one.
        let cache = open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC)
        if cache >= 0 {
            let bytes = FileOps.readAll(fd: cache, limit: 64 << 20)
            close(cache)
            if let bytes { _ = FileOps.create(path + "/ld.so.cache", contents: bytes, mode: 0o644) }
        }
        _ = symlink("/usr/share/zoneinfo/Etc/UTC", path + "/localtime")
        for name in binds {
            var st = stat()
            guard stat("/etc/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                throw SandboxError(.invalidConfiguration, "/etc/\(name) (an etc bind) is not a directory on this host")
            }
            if mkdir(path + "/" + name, 0o755) < 0 {
                throw SandboxError(.hostSetupFailed, "cannot create \(path)/\(name)", errno: errno)
            }
        }
    }

    static func remove(at path: String) {
        guard let dir = opendir(path) else { return }
        var entries: [(String, Bool)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { entries.append((name, entry.pointee.d_type == DT_DIR)) }
        }
        closedir(dir)
        for (name, isDir) in entries {
            if isDir { rmdir(path + "/" + name) } else { unlink(path + "/" + name) }
        }
        rmdir(path)
    }
}
