/// \file ferx/core/linalg.hpp
/// Dense linear algebra on xtensor containers (BLAS/LAPACK through xtensor-blas): the one header
/// that includes xtensor-blas, as core/tensor.hpp is for xtensor, so a change of its include
/// layout is a one-file change. Use `xt::linalg::dot`, `eigh`, `svd`, ... after including it.
#pragma once

#include <ferx/core/tensor.hpp>

#include <xtensor-blas/xlinalg.hpp>
