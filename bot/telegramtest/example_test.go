package telegramtest_test

import (
	"context"
	"fmt"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

func Example() {
	srv := telegramtest.NewServer()
	defer srv.Close()
	srv.AddBot("123:secret", "shop_bot", "Shop")

	client, _ := tgbot.New("123:secret", tgbot.WithServerURL(srv.URL), tgbot.WithSkipGetMe())
	ctx := context.Background()

	// The bold entity runs past the end of the text.
	bold := []models.MessageEntity{{Type: models.MessageEntityTypeBold, Offset: 7, Length: 9}}
	_, err := client.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 42, Text: "Price: 5.00!", Entities: bold})
	fmt.Println(err)

	bold[0].Length = 5
	msg, _ := client.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 42, Text: "Price: 5.00!", Entities: bold})
	fmt.Println(msg.ID, msg.Text, msg.Entities[0].Type)

	sent, _ := srv.WaitSent(ctx, 42, 1)
	fmt.Println(len(sent))
	// Output:
	// bad request, Bad Request: can't parse entities: MessageEntity 0 (offset 7, length 9) is outside the text of 12 UTF-16 code units
	// 1 Price: 5.00! bold
	// 1
}
