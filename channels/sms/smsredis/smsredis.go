// Package smsredis keeps the live state of SMS follow-up conversations (channels/sms
// DialogueStore) in Redis, one key per number with a TTL, so that every replica sees the same
// conversation and a conversation nobody finishes disappears on its own. The state is small JSON
// (survey.SMSDialogue); nothing in it is a phone number (only its keyed hash).
package smsredis

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afkar-gov/afkar/survey"
)

// Linger is how long a key outlives its conversation's expiry: the SMS channel's sweeper ends an
// expired conversation a little after its expiry and still finds the answers given so far.
const Linger = 15 * time.Minute

// Dialogues is the Redis DialogueStore.
type Dialogues struct {
	c      redis.UniversalClient
	prefix string
}

// New returns the store over client c; keys are prefix + "sms:dialogue:" + the number's hash.
func New(c redis.UniversalClient, prefix string) *Dialogues {
	return &Dialogues{c: c, prefix: prefix + "sms:dialogue:"}
}

// PutDialogue stores d under its number, replacing any earlier conversation, until Linger after
// d.ExpiresAt.
func (s *Dialogues) PutDialogue(ctx context.Context, d survey.SMSDialogue) error {
	b, err := json.Marshal(d)
	if err != nil {
		return survey.Wrap(survey.ECodeInternal, err, "ذخیرهٔ گفت‌وگوی پیامکی انجام نشد.", "could not encode an SMS conversation")
	}
	ttl := time.Until(d.ExpiresAt.Add(Linger))
	if ttl < time.Second {
		ttl = time.Second
	}
	return storeError(s.c.Set(ctx, s.prefix+d.PhoneHash, b, ttl).Err())
}

// TakeDialogue deletes and returns the number's conversation (GETDEL: of two concurrent takers
// only one gets it) when it was open at `at`.
func (s *Dialogues) TakeDialogue(ctx context.Context, phoneHash string, at time.Time) (survey.SMSDialogue, bool, error) {
	b, err := s.c.GetDel(ctx, s.prefix+phoneHash).Bytes()
	if errors.Is(err, redis.Nil) {
		return survey.SMSDialogue{}, false, nil
	}
	if err != nil {
		return survey.SMSDialogue{}, false, storeError(err)
	}
	var d survey.SMSDialogue
	if err := json.Unmarshal(b, &d); err != nil {
		return survey.SMSDialogue{}, false, survey.Wrap(survey.ECodeInternal, err, "گفت‌وگوی پیامکی خوانده نشد.", "could not decode an SMS conversation")
	}
	if at.After(d.ExpiresAt) {
		return survey.SMSDialogue{}, false, nil
	}
	return d, true, nil
}

// storeError translates a Redis failure into the domain's unavailable error, so the SMS channel
// retries the message later.
func storeError(err error) error {
	if err == nil {
		return nil
	}
	return survey.Wrap(survey.ECodeUnavailable, err, "Redis در دسترس نیست.", "Redis is unavailable")
}
