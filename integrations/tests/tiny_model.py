"""A byte-level tokenizer and a tiny random Qwen2 model made on the spot (nothing is downloaded),
for running verl's and TRL's own code on the integrations."""
import os

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

SPECIAL = ["<|endoftext|>", "<|pad|>"]


def tokenizer(directory=None):
    """Every byte is a token, so decode(encode(text)) == text; saved to `directory` if given
    (verl's reward loop loads its tokenizer from a path)."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    for s in SPECIAL:
        vocab[s] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=SPECIAL[0], pad_token=SPECIAL[1])
    fast.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    if directory:
        os.makedirs(directory, exist_ok=True)
        fast.save_pretrained(directory)
    return fast


def model(tok):
    """A two-layer Qwen2 with random weights over `tok`'s vocabulary."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, tie_word_embeddings=True)
    return Qwen2ForCausalLM(config)
