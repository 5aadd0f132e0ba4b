// Package prompt asks a person questions on a terminal, one at a time, and
// carries questions from a process without a terminal to one that has it:
// `onion up` shows its proxy's login prompts on its own terminal.
//
// A Terminal serialises questions, reads secrets without echo, withdraws a
// question whose asker has gone (its context ended), and holds log output
// back while a question is open. Server and Client carry questions over a
// unix socket private to its owner, one question per connection; closing
// the connection withdraws the question. It knows nothing of what is asked.
package prompt

import "context"

// Asker asks a person one question. With secret set the answer is not
// echoed. When ctx ends before the answer, the question is withdrawn and
// Ask returns ctx's error. Implementations take questions from many
// goroutines, one at a time.
type Asker interface {
	Ask(ctx context.Context, question string, secret bool) (string, error)
}

type yieldKey struct{}

// Yielding marks the questions asked with ctx as ones that give way: a
// question that can wait (open this URL?) must not stand between the
// person and a login.
func Yielding(ctx context.Context) context.Context {
	return context.WithValue(ctx, yieldKey{}, true)
}

// Yields reports whether ctx was made by Yielding.
func Yields(ctx context.Context) bool {
	y, _ := ctx.Value(yieldKey{}).(bool)
	return y
}
