//go:build !race

package export_test

// memoryRows is the streaming memory test's row count: a million, as the export promises.
const memoryRows = 1_000_000
