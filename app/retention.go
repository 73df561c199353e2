package app

import "context"

func (a *App) scheduledRetention(ctx context.Context) {}
