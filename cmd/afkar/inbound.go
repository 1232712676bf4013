package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/sms/smsredis"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// startInbox starts the SMS reply processor: citizens' replies, stored by the push webhook (and
// the development page, and the receive poller), are processed by one loop that also picks up
// what a crash left stored but unprocessed. With a real gateway (AFKAR_KAVENEGAR_API_KEY) the
// receive poller runs beside the push every AFKAR_SMS_RECEIVE_EVERY, as a reconciler; the console
// gateway has nothing to poll (the development page hands replies to the inbox directly). The
// returned stop waits for both loops; call it before intake closes, since a scored reply goes
// through intake. Follow-up conversations (a survey's SMS follow-up questions) keep their live
// state in Redis when it is configured, else in the SQL store.
func startInbox(ctx context.Context, cfg *Config, store *sqlstore.Store, intake sms.Submitter, privacy *sms.Privacy,
	gateway sms.Gateway, log *slog.Logger, cases ...sms.CasePrompts) (*sms.Inbox, func(), error) {
	dialogues, closeDialogues, err := dialogueStore(cfg, store)
	if err != nil {
		return nil, nil, err
	}
	opts := sms.InboxOptions{Dialogues: dialogues, DialogueTTL: cfg.SMSDialogueTTL, Logger: log}
	if len(cases) > 0 {
		opts.Cases = cases[0]
	}
	inbox := sms.NewInbox(store, intake, privacy, opts)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		inbox.Run(ctx)
	}()
	if cfg.KavenegarAPIKey != "" {
		receiver := sms.NewReceiver(gateway, inbox, cfg.KavenegarSender, log)
		wg.Add(1)
		go func() {
			defer wg.Done()
			receiver.Run(ctx, cfg.SMSReceiveEvery)
		}()
	}
	return inbox, func() {
		cancel()
		wg.Wait()
		closeDialogues()
	}, nil
}

// dialogueStore is where open SMS follow-up conversations live: Redis under a TTL when
// AFKAR_REDIS_URL is set (every replica sees the same conversation), else the SQL store.
func dialogueStore(cfg *Config, store *sqlstore.Store) (sms.DialogueStore, func(), error) {
	if cfg.RedisURL == "" {
		return store, func() {}, nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("AFKAR_REDIS_URL: %w", err)
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = time.Second, time.Second, time.Second
	c := redis.NewClient(opt)
	return smsredis.New(c, cfg.RedisPrefix), func() { _ = c.Close() }, nil
}

// devSMS is the development page's view on the embedded default (SQLite without Redis), and
// nil — no /dev/sms route — anywhere else.
func devSMS(cfg *Config, store *sqlstore.Store, privacy *sms.Privacy) api.DevSMS {
	if !cfg.Embedded() || cfg.RedisURL != "" {
		return nil
	}
	return sms.NewDev(store, privacy)
}

// startDeliveries is the delivery tracker: the status push (POST /api/v1/sms/kavenegar/status/
// {secret}) records through it always, and with a real gateway (AFKAR_KAVENEGAR_API_KEY) it also
// polls sms/status.json every AFKAR_SMS_STATUS_EVERY for messages still on their way. The console
// gateway reports every message delivered as it sends, so there is nothing to poll. The returned
// stop waits for the poller.
func startDeliveries(ctx context.Context, cfg *Config, store *sqlstore.Store, gateway sms.Gateway, log *slog.Logger) (*sms.Deliveries, func()) {
	d := sms.NewDeliveries(store, gateway, nil, log)
	if cfg.KavenegarAPIKey == "" {
		return d, func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx, cfg.SMSStatusEvery)
	}()
	return d, func() {
		cancel()
		<-done
	}
}
