"""DataLoader: the book's toy examples, and the fast (stacked) path giving the same batches as the slow one."""

import string

import torch

from digitcore.dataloader import DataLoader, DataLoaders, collate


def test_book_range_example():
    dl = DataLoader(range(15), batch_size=5, shuffle=True, seed=0)
    batches = list(dl)
    assert len(dl) == 3 and len(batches) == 3
    assert all(b.dtype == torch.int64 and b.shape == (5,) for b in batches)
    assert sorted(torch.cat(batches).tolist()) == list(range(15))  # every item once
    assert torch.cat(batches).tolist() != list(range(15))  # shuffled
    assert torch.cat(list(dl)).tolist() != torch.cat(batches).tolist()  # a new order on every pass


def test_book_letters_example():
    ds = list(enumerate(string.ascii_lowercase))
    dl = DataLoader(ds, batch_size=6, shuffle=True, seed=1)
    batches = list(dl)
    assert [len(b[0]) for b in batches] == [6, 6, 6, 6, 2]  # the last batch is short (drop_last=False)
    for nums, letters in batches:
        assert isinstance(nums, torch.Tensor) and nums.dtype == torch.int64
        assert isinstance(letters, tuple) and all(isinstance(c, str) for c in letters)
        assert [string.ascii_lowercase[i] for i in nums.tolist()] == list(letters)  # pairs stay together
    assert sorted(i for b in batches for i in b[0].tolist()) == list(range(26))


def test_unshuffled_order_and_drop_last():
    assert [b.tolist() for b in DataLoader(range(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    dl = DataLoader(range(7), batch_size=3, drop_last=True)
    assert len(dl) == 2 and [b.tolist() for b in dl] == [[0, 1, 2], [3, 4, 5]]


def test_collate():
    assert collate([1.5, 2.5]).tolist() == [1.5, 2.5]
    x, y = collate([(torch.zeros(2), 1), (torch.ones(2), 0)])
    assert x.shape == (2, 2) and y.tolist() == [1, 0]


def _pairs(n=50):
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(n, 784, generator=g), torch.randint(0, 2, (n, 1), generator=g).float()
    return x, y


def test_list_of_tensor_pairs_is_stacked_once_and_batched_like_the_slow_path():
    x, y = _pairs()
    fast = DataLoader(list(zip(x, y)), batch_size=16, shuffle=True, seed=5)
    assert fast.tensors is not None  # took the fast path
    slow = DataLoader(list(zip(x, y)), batch_size=16, shuffle=True, seed=5)
    slow.tensors = None  # force item-by-item collation
    for _ in range(2):  # two passes: both reshuffle the same way
        fb, sb = list(fast), list(slow)
        assert [len(b[0]) for b in fb] == [16, 16, 16, 2]
        for (fx, fy), (sx, sy) in zip(fb, sb):
            assert torch.equal(fx, sx) and torch.equal(fy, sy)


def test_rows_of_one_tensor_are_used_in_place_and_anything_else_is_copied():
    x, y = _pairs()
    dl = DataLoader(list(zip(x, y)), batch_size=16)
    assert dl.tensors[0].data_ptr() == x.data_ptr() and torch.equal(dl.tensors[0], x)  # no copy: x's own rows
    assert torch.equal(dl.tensors[1], y)
    part = DataLoader(list(zip(x[3:20], y[3:20])), batch_size=4)  # a run of rows from the middle
    assert part.tensors[0].data_ptr() == x[3].data_ptr() and torch.equal(part.tensors[0], x[3:20])
    for rows in ([x[2], x[1], x[0]], [x[0], x[2], x[4]], [x[0], x[1].clone(), x[2]]):  # order, gaps, a copy
        pairs = list(zip(rows, y[:3]))
        dl = DataLoader(pairs, batch_size=2)
        assert dl.tensors[0].data_ptr() not in {r.data_ptr() for r in rows}  # stacked into new memory
        assert torch.equal(dl.tensors[0], torch.stack(rows))


def test_from_tensors_matches_zip_and_keeps_pairs():
    x, y = _pairs()
    a = list(DataLoader.from_tensors(x, y, batch_size=16, shuffle=True, seed=2))
    b = list(DataLoader(list(zip(x, y)), batch_size=16, shuffle=True, seed=2))
    assert all(torch.equal(p, q) for (p, _), (q, _) in zip(a, b))
    xb, yb = a[0]
    idx = [int(torch.nonzero((x == row).all(1))[0]) for row in xb]  # each row of xb is one of x ...
    assert torch.equal(yb, y[idx])  # ... and comes with its own label
    unshuffled = list(DataLoader.from_tensors(x, y, batch_size=16))
    assert torch.equal(torch.cat([b[0] for b in unshuffled]), x)


def test_dataloaders():
    x, y = _pairs()
    train, valid = DataLoader.from_tensors(x, y, batch_size=8), DataLoader.from_tensors(x, y, batch_size=64)
    dls = DataLoaders(train, valid)
    assert dls.train is train and dls.valid is valid and dls[1] is valid
    assert len(dls.train) == 7 and len(dls.valid) == 1


def test_from_sample_gives_the_samples_tensors_in_the_asked_batches():
    from test_sweep import fake_digits

    data = fake_digits(n_train=100, n_valid=40, seed=2)
    dls = DataLoaders.from_sample(data, batch_size=32, valid_batch_size=16, shuffle=True, seed=7)
    by_hand = DataLoader.from_tensors(*data.train_xy(), batch_size=32, shuffle=True, seed=7)
    for (x, y), (hx, hy) in zip(dls.train, by_hand, strict=True):
        assert torch.equal(x, hx) and torch.equal(y, hy)  # the same order from the same seed
    valid = list(dls.valid)
    assert [len(xb) for xb, _ in valid] == [16] * 5  # 80 validation digits, in order
    assert torch.equal(torch.cat([xb for xb, _ in valid]), data.valid_xy()[0])
    in_order = DataLoaders.from_sample(data)
    assert torch.equal(next(iter(in_order.train))[0], data.train_xy()[0][:256])  # unshuffled by default, as the book
