import torch
import torch.nn as nn


class TextClassifier(nn.Module):
    def __init__(self, vocab=1000, embed=64, hidden=128, classes=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, tokens):
        x = self.embedding(tokens)
        out, (h, c) = self.lstm(x)
        return self.fc(out[:, -1, :])


model = TextClassifier()
logits = model(torch.randint(0, 1000, (8, 20)))
