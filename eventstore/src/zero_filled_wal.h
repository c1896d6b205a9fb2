// Internal: a RocksDB file system that writes zeros into the write-ahead log
// ahead of RocksDB's appends, a few megabytes at a time.
//
// Why: a group commit's fdatasync of an appended file also journals the
// file's new size and the extents it converts from preallocated to written;
// into blocks already written, it flushes the data alone, and takes half the
// time on this project's disk (the reason for PostgreSQL's wal_init_zero).
//
// Safety: RocksDB's log reader takes a zero record header for the end of
// what was written (record type 0 is reserved for preallocated space), so a
// crash that leaves zeros after the last record recovers exactly as one that
// leaves the file's end there; a record torn by the crash fails its checksum
// either way. Closing a log truncates the zeros (RocksDB trims a file it
// preallocated to what it wrote).
//
// Lifetime: the returned file system must outlive every DB opened with it.
#pragma once

#include <rocksdb/file_system.h>

#include <memory>

namespace tessera::eventstore::detail {

std::shared_ptr<rocksdb::FileSystem> zero_filled_wal(std::shared_ptr<rocksdb::FileSystem> base);

}  // namespace tessera::eventstore::detail
