"""Regression models behind a proxy: ``rf``, ``gbt``, ``mlp``, ``gp``.

Every model predicts through a compiled kernel (:mod:`archgym.proxy.kernels`): one row in
tens of microseconds, the library's own prediction (``library_predict``) bit for bit for
trees, to float32 (MLP) or float64 (GP) rounding otherwise.
Every model sees features in ``[0, 1]`` and standardised (and, for positive metrics,
log-transformed) targets, one column per metric, and returns predictions in that same
space; :class:`archgym.proxy.core.Proxy` maps them back. Ensembles also return a spread
(``std``), which the multi-fidelity evaluator uses as the proxy's "I do not know":

- ``rf``: scikit-learn random forest (multi-output); std = spread of the trees.
- ``gbt``: LightGBM, one booster per metric, an ensemble of ``members`` boosters with
  different seeds and row bagging; std = spread of the members.
- ``mlp``: PyTorch MLP on CPU (multi-output, float32, one thread, seeded, AdamW with
  cosine decay over ``steps`` mini-batches); no std.
- ``gp``: scikit-learn Gaussian process per metric (Matern 5/2 with ARD + noise); exact
  posterior std. Cubic in the rows, so limited to ``GP_MAX_ROWS``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from archgym.errors import ArchGymError

GP_MAX_ROWS = 3000


class Model:
    """Interface: ``fit(X, Y)``; ``predict(X, return_std)`` -> ``(mean, std or None)``.

    ``predict`` runs the model's compiled kernel (:mod:`archgym.proxy.kernels`, built on
    first use and never pickled); ``library_predict`` is the library's own prediction,
    kept to check the kernel against.
    """

    kind = ""
    has_std = False

    def __init__(self, seed: int = 0, **hparams: Any) -> None:
        self.seed = int(seed)
        self.hparams = hparams

    def fit(self, X: np.ndarray, Y: np.ndarray) -> Model:
        raise NotImplementedError

    @property
    def kernel(self) -> Any:
        from archgym.proxy.kernels import VERSION

        k = self.__dict__.get("_kernel")
        if getattr(k, "version", None) != VERSION:
            k = self._kernel = self.compile()
        return k

    def compile(self) -> Any:
        raise NotImplementedError

    def predict(self, X: np.ndarray, return_std: bool = False
                ) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def library_predict(self, X: np.ndarray, return_std: bool = False
                        ) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    #: save the compiled kernel with the model (where compiling takes seconds)
    persist_kernel = False

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k != "_kernel"}
        if self.persist_kernel:
            state["_kernel"] = self.kernel
        return state


class ForestModel(Model):
    kind, has_std = "rf", True

    def fit(self, X, Y):
        from sklearn.ensemble import RandomForestRegressor

        hp = {"n_estimators": 100, "min_samples_leaf": 1, "max_features": 1.0, "n_jobs": 1,
              **self.hparams}
        self.forest = RandomForestRegressor(random_state=self.seed, **hp).fit(X, Y)
        self._kernel = None
        return self

    def compile(self):
        from archgym.proxy.kernels import TreeKernel

        return TreeKernel.from_sklearn(self.forest.estimators_)

    def predict(self, X, return_std=False):
        if not return_std:  # sklearn's order: sum the trees from 0.0, divide by their count
            return self.kernel.sums(X)[:, 0, :] / len(self.forest.estimators_), None
        per_tree = self.kernel.leaves(X)
        return per_tree.mean(axis=0), per_tree.std(axis=0)

    def library_predict(self, X, return_std=False):
        if not return_std:
            mean = self.forest.predict(X)
            return mean.reshape(len(X), -1), None
        per_tree = np.stack([t.predict(X).reshape(len(X), -1) for t in self.forest.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)


class BoostingModel(Model):
    kind, has_std = "gbt", True
    persist_kernel = True  # reading thousands of dumped trees takes seconds

    def fit(self, X, Y):
        import lightgbm

        hp = {"n_estimators": 400, "learning_rate": 0.05, "num_leaves": 31,
              "min_child_samples": 5, "subsample": 0.8, "subsample_freq": 1,
              "colsample_bytree": 0.9, "n_jobs": 1, **self.hparams}
        members = int(hp.pop("members", 3))
        self.boosters = [[lightgbm.LGBMRegressor(random_state=self.seed * 1000 + k * 100 + j,
                                                 deterministic=True, force_row_wise=True,
                                                 verbose=-1, **hp).fit(X, Y[:, j])
                          for k in range(members)] for j in range(Y.shape[1])]
        self._kernel = None
        return self

    def compile(self):
        from archgym.proxy.kernels import TreeKernel

        return TreeKernel.from_lightgbm([b.booster_ for members in self.boosters
                                         for b in members])

    def predict(self, X, return_std=False):
        if not return_std:  # the members' mean, summed in their order as below
            return self.kernel.group_means(X, len(self.boosters[0])), None
        sums = self.kernel.sums(X)[:, :, 0]  # (n, metrics * members), metric-major
        per = np.stack([sums[:, j * len(m):(j + 1) * len(m)]
                        for j, m in enumerate(self.boosters)], axis=2)
        return per.mean(axis=1), (per.std(axis=1) if return_std else None)

    def library_predict(self, X, return_std=False):
        per = np.stack([np.stack([b.predict(X) for b in members], axis=1)
                        for members in self.boosters], axis=2)  # (n, members, metrics)
        return per.mean(axis=1), (per.std(axis=1) if return_std else None)


class MLPModel(Model):
    kind, has_std = "mlp", False

    def _net(self, d_in: int, d_out: int):
        import torch

        width, depth = int(self.hparams.get("width", 128)), int(self.hparams.get("depth", 3))
        layers: list[Any] = []
        for i in range(depth):
            layers += [torch.nn.Linear(d_in if i == 0 else width, width), torch.nn.SiLU()]
        layers.append(torch.nn.Linear(width, d_out))
        return torch.nn.Sequential(*layers)

    def fit(self, X, Y):
        from archgym.threads import one_thread

        with one_thread():  # deterministic, and no oversubscription
            return self._fit(X, Y)

    def _fit(self, X, Y):
        import torch

        torch.manual_seed(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        self.shape = (X.shape[1], Y.shape[1])
        net = self._net(*self.shape)
        steps = int(self.hparams.get("steps", 8000))
        batch = min(int(self.hparams.get("batch", 256)), len(X))
        opt = torch.optim.AdamW(net.parameters(), lr=float(self.hparams.get("lr", 2e-3)),
                                weight_decay=float(self.hparams.get("weight_decay", 1e-5)))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        Xt, Yt = torch.from_numpy(X.astype(np.float32)), torch.from_numpy(Y.astype(np.float32))
        for _ in range(steps):
            idx = torch.randint(len(X), (batch,), generator=gen)
            loss = torch.nn.functional.mse_loss(net(Xt[idx]), Yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        self.net = net.eval()
        self._kernel = None
        return self

    def compile(self):
        from archgym.proxy.kernels import MLPKernel

        linear = [m for m in self.net if hasattr(m, "weight")]
        return MLPKernel([(m.weight.detach().numpy(), m.bias.detach().numpy())
                          for m in linear])

    def predict(self, X, return_std=False):
        return self.kernel.predict(X), None

    def library_predict(self, X, return_std=False):
        import torch

        with torch.no_grad():
            out = self.net(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
        return out.numpy().astype(np.float64), None

    # saved as plain numpy weights (the torch state dict), rebuilt on load
    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("net", "_kernel")}
        state["weights"] = {k: v.numpy().copy() for k, v in self.net.state_dict().items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        import torch

        weights = state.pop("weights")
        self.__dict__.update(state)
        self.net = self._net(*self.shape)
        self.net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        self.net.eval()


class GPModel(Model):
    kind, has_std = "gp", True

    def fit(self, X, Y):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        if len(X) > GP_MAX_ROWS:
            raise ArchGymError(f"model 'gp' is for small data (at most {GP_MAX_ROWS} rows); "
                               f"got {len(X)}: use rf, gbt or mlp")
        self.gps = []
        for j in range(Y.shape[1]):
            kernel = (ConstantKernel(1.0, (1e-3, 1e3))
                      * Matern(np.ones(X.shape[1]), (1e-2, 1e3), nu=2.5)
                      + WhiteKernel(1e-3, (1e-8, 1e0)))
            gp = GaussianProcessRegressor(kernel, random_state=self.seed, n_restarts_optimizer=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # bounds hit: harmless
                self.gps.append(gp.fit(X, Y[:, j]))
        self._kernel = None
        return self

    def compile(self):
        from archgym.proxy.kernels import GPKernel

        return GPKernel(self.gps)

    def predict(self, X, return_std=False):
        return self.kernel.predict(X, return_std=return_std)

    def library_predict(self, X, return_std=False):
        outs = [gp.predict(X, return_std=return_std) for gp in self.gps]
        if return_std:
            return (np.stack([m for m, _ in outs], axis=1), np.stack([s for _, s in outs], axis=1))
        return np.stack(outs, axis=1), None


MODELS: dict[str, type[Model]] = {m.kind: m for m in (ForestModel, BoostingModel, MLPModel,
                                                      GPModel)}


def make_model(kind: str, seed: int = 0, **hparams: Any) -> Model:
    if kind not in MODELS:
        raise ArchGymError(f"unknown proxy model {kind!r}; allowed: {', '.join(MODELS)}")
    return MODELS[kind](seed=seed, **hparams)
