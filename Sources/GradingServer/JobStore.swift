import Foundation
import GRDB

/// Durable async grading jobs in SQLite (GRDB).
///
/// A job and all its items are written in one transaction before the client gets the id, so an
/// accepted job survives any crash. Each item's result is stored at most once
/// (`UPDATE ... WHERE result IS NULL`); after a restart the runner picks up every item that has
/// no result yet, so every job finishes, and each item's result is recorded exactly once.
public final class JobStore: Sendable {
    let db: DatabaseQueue

    public struct Snapshot: Sendable {
        public var id: String
        public var state: String
        public var total: Int
        public var completed: Int
        public var createdAt: Double
        public var finishedAt: Double?
        /// Stored results (JSON text) by item index.
        public var results: [(index: Int, json: String)]
    }

    struct Pending: Sendable {
        var id: String
        var options: String
        var items: [(index: Int, json: String)]
    }

    /// An idempotency key reused with a different body.
    struct KeyConflict: Error {}

    /// Opens (creating if needed) the store at `path`; nil: in memory.
    public init(path: String?) throws {
        var config = Configuration()
        config.label = "assay.jobs"
        // A second server on the same file waits for the lock rather than failing at once.
        config.busyMode = .timeout(5)
        if let path {
            db = try DatabaseQueue(path: path, configuration: config)
            // WAL: readers (GET /v1/jobs/{id}) never block the runner's writes; synchronous
            // NORMAL in WAL mode still survives a process crash (only power loss can drop the
            // last commits).
            try db.writeWithoutTransaction { db in
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
        } else {
            db = try DatabaseQueue(configuration: config)
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE job (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    idempotency_key TEXT UNIQUE,
                    body_hash TEXT NOT NULL,
                    options TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done')),
                    total INTEGER NOT NULL,
                    completed INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    finished_at REAL
                );
                CREATE TABLE job_item (
                    job_id TEXT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
                    idx INTEGER NOT NULL,
                    item TEXT NOT NULL,
                    result TEXT,
                    stored INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (job_id, idx)
                );
                CREATE INDEX job_state ON job(state, seq);
                """)
        }
        try migrator.migrate(db)
    }

    static func newID() -> String {
        var g = SystemRandomNumberGenerator()
        return "job_" + (0..<2).map { _ in
            let s = String(g.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }.joined()
    }

    /// Stores a new job, or returns the job already stored under `idempotencyKey`.
    /// - Returns: the job id and whether it was created now.
    /// - Throws: ``KeyConflict`` when the key names a job with a different body.
    func submit(idempotencyKey: String?, bodyHash: String, options: String, items: [String]) async throws -> (id: String, created: Bool) {
        try await db.write { db in
            if let key = idempotencyKey,
               let row = try Row.fetchOne(db, sql: "SELECT id, body_hash FROM job WHERE idempotency_key = ?", arguments: [key]) {
                guard row["body_hash"] as String == bodyHash else { throw KeyConflict() }
                return (row["id"], false)
            }
            let id = Self.newID()
            try db.execute(sql: """
                INSERT INTO job (id, idempotency_key, body_hash, options, state, total, created_at)
                VALUES (?, ?, ?, ?, 'queued', ?, ?)
                """, arguments: [id, idempotencyKey, bodyHash, options, items.count, Date().timeIntervalSince1970])
            let insert = try db.makeStatement(sql: "INSERT INTO job_item (job_id, idx, item) VALUES (?, ?, ?)")
            for (n, item) in items.enumerated() { try insert.execute(arguments: [id, n, item]) }
            return (id, true)
        }
    }

    public func snapshot(_ id: String, withResults: Bool = true) async throws -> Snapshot? {
        try await db.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [id]) else { return nil }
            var results: [(Int, String)] = []
            if withResults {
                let rows = try Row.fetchAll(db, sql: "SELECT idx, result FROM job_item WHERE job_id = ? AND result IS NOT NULL ORDER BY idx", arguments: [id])
                results = rows.map { ($0["idx"], $0["result"]) }
            }
            return Snapshot(id: row["id"], state: row["state"], total: row["total"], completed: row["completed"],
                            createdAt: row["created_at"], finishedAt: row["finished_at"], results: results)
        }
    }

    /// The oldest unfinished job with its items that still lack a result (nil: none).
    func nextPending(excluding: Set<String> = []) async throws -> Pending? {
        try await db.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, options FROM job WHERE state != 'done' ORDER BY seq LIMIT ?",
                                        arguments: [excluding.count + 1])
            guard let row = rows.first(where: { !excluding.contains($0["id"]) }) else { return nil }
            let id: String = row["id"]
            try db.execute(sql: "UPDATE job SET state = 'running' WHERE id = ? AND state = 'queued'", arguments: [id])
            let items = try Row.fetchAll(db, sql: "SELECT idx, item FROM job_item WHERE job_id = ? AND result IS NULL ORDER BY idx", arguments: [id])
            if items.isEmpty {
                // Every item has a result (a crash between the last result and the state update
                // cannot happen in one transaction, but a hand-edited store can): settle the job.
                try db.execute(sql: """
                    UPDATE job SET completed = (SELECT COUNT(*) FROM job_item WHERE job_id = ? AND result IS NOT NULL)
                    WHERE id = ?
                    """, arguments: [id, id])
                try Self.finishIfComplete(db, id)
            }
            return Pending(id: id, options: row["options"], items: items.map { ($0["idx"], $0["item"]) })
        }
    }

    /// Stores one item's result unless one is already stored.
    /// - Returns: false when a result was already there (nothing changed).
    func storeResult(jobID: String, index: Int, json: String) async throws -> Bool {
        try await db.write { db in
            try db.execute(sql: "UPDATE job_item SET result = ?, stored = stored + 1 WHERE job_id = ? AND idx = ? AND result IS NULL",
                           arguments: [json, jobID, index])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: "UPDATE job SET completed = completed + 1 WHERE id = ?", arguments: [jobID])
            try Self.finishIfComplete(db, jobID)
            return true
        }
    }

    private static func finishIfComplete(_ db: Database, _ id: String) throws {
        try db.execute(sql: "UPDATE job SET state = 'done', finished_at = ? WHERE id = ? AND completed >= total AND state != 'done'",
                       arguments: [Date().timeIntervalSince1970, id])
    }

    /// Jobs by state (for /metrics).
    func counts() async throws -> [String: Int] {
        try await db.read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM job GROUP BY state") { out[row["state"]] = row["n"] }
            return out
        }
    }

    /// How many times each item's result was stored (an audit for the exactly-once tests).
    public func storeCounts(_ id: String) async throws -> [Int] {
        try await db.read { db in
            try Int.fetchAll(db, sql: "SELECT stored FROM job_item WHERE job_id = ? ORDER BY idx", arguments: [id])
        }
    }
}

/// FNV-1a 64 of a body, to tell a retried submission from a different one under the same key.
func fnv1a(_ bytes: some Sequence<UInt8>) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    let s = String(h, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}
