package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/afkar-gov/afkar/channels/sms"
)

// stdin is where `afkar sms parse` reads; a variable so tests can feed it through run.
var stdin io.Reader = os.Stdin

// maxReplyLine bounds one input line of `afkar sms parse`; a concatenated SMS is far shorter.
const maxReplyLine = 1 << 20

const smsUsage = `usage: afkar sms parse    read SMS replies one per line on stdin, print one JSON line each:
                        {"kind":"rating"|"optout"|"resubscribe"|"ambiguous"|"none","rating":N,"comment":"…"}`

// smsCmd is `afkar sms parse`: the reply parser on the command line, to check how messy replies
// read before a line goes live, or to re-parse an export of inbound messages. It needs no
// configuration and no database.
func smsCmd(ctx context.Context, args []string, in io.Reader, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "parse" {
		return errors.New(smsUsage)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), maxReplyLine)
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for line := 1; sc.Scan(); line++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		text := sc.Text()
		if n := len(text); n > 0 && text[n-1] == '\r' {
			text = text[:n-1]
		}
		if err := enc.Encode(sms.Parse(text)); err != nil {
			return err
		}
		// One line out per line in, as it is read: the command can sit in a pipe.
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("sms parse: a line is longer than %d bytes", maxReplyLine)
		}
		return fmt.Errorf("sms parse: reading stdin: %w", err)
	}
	return nil
}
