package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// startInbox starts the SMS reply processor: citizens' replies, stored by the push webhook (and
// the development page, and the receive poller), are processed by one loop that also picks up
// what a crash left stored but unprocessed. The returned stop waits for the loop; call it before
// intake closes, since a scored reply goes through intake.
func startInbox(ctx context.Context, store *sqlstore.Store, intake sms.Submitter, privacy *sms.Privacy,
	log *slog.Logger) (*sms.Inbox, func()) {
	inbox := sms.NewInbox(store, intake, privacy, sms.InboxOptions{Logger: log})
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		inbox.Run(ctx)
	}()
	return inbox, func() {
		cancel()
		wg.Wait()
	}
}
