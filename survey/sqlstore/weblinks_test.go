package sqlstore_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// TestWeblinkClaim: a link is claimed once; concurrent claims of one link have exactly one
// winner; a release by another response leaves the claim, a release by its own frees the link.
func TestWeblinkClaim(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		st := sqltest.Open(t, dialect)
		ctx := testCtx(t)
		now := time.Now()
		if used, err := st.LinkUsed(ctx, "tok-a"); err != nil || used {
			t.Fatalf("fresh link used=%v err=%v", used, err)
		}
		if ok, err := st.ClaimLink(ctx, "tok-a", "resp-1", now); err != nil || !ok {
			t.Fatalf("first claim = %v, %v", ok, err)
		}
		if ok, err := st.ClaimLink(ctx, "tok-a", "resp-2", now); err != nil || ok {
			t.Fatalf("second claim = %v, %v; want refused", ok, err)
		}
		if used, _ := st.LinkUsed(ctx, "tok-a"); !used {
			t.Error("claimed link not used")
		}
		if err := st.ReleaseLink(ctx, "tok-a", "resp-2"); err != nil {
			t.Fatal(err)
		}
		if used, _ := st.LinkUsed(ctx, "tok-a"); !used {
			t.Error("another response's release must not free the link")
		}
		if err := st.ReleaseLink(ctx, "tok-a", "resp-1"); err != nil {
			t.Fatal(err)
		}
		if used, _ := st.LinkUsed(ctx, "tok-a"); used {
			t.Error("released link still used")
		}

		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := st.ClaimLink(ctx, "tok-race", "resp-"+string(rune('a'+i)), now)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("%d concurrent claims won, want exactly 1", wins.Load())
		}
	})
}
