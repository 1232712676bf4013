// Command afkar runs Afkar, the citizen-feedback platform of a province's executive agencies: the
// HTTP server with its in-process aggregator (serve), a standalone aggregator (worker), and the
// maintenance commands (migrate, demo, reaggregate, token, config, version).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // Asia/Tehran must load on hosts without zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "afkar:", err)
		os.Exit(1)
	}
}
