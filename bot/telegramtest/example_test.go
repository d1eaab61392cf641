package telegramtest_test

import (
	"context"
	"fmt"

	tgbot "github.com/go-telegram/bot"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

func Example() {
	srv := telegramtest.NewServer()
	defer srv.Close()
	srv.AddBot("123:secret", "shop_bot", "Shop")

	client, _ := tgbot.New("123:secret", tgbot.WithServerURL(srv.URL), tgbot.WithSkipGetMe())
	ctx := context.Background()

	_, err := client.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 42, Text: "Price: 5.00!", ParseMode: "MarkdownV2"})
	fmt.Println(err)

	msg, _ := client.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 42, Text: "Price: 5\\.00\\!", ParseMode: "MarkdownV2"})
	fmt.Println(msg.ID, msg.Text)

	sent, _ := srv.WaitSent(ctx, 42, 1)
	fmt.Println(len(sent))
	// Output:
	// bad request, Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\'
	// 1 Price: 5.00!
	// 1
}
