/*
 * tiepdan: ankerl::unordered_dense shim over the C++ standard library.
 *
 * mediasoup >= 3.20.1 uses martinus/unordered_dense (header-only, fetched by a meson wrap), which
 * Debian does not package. The worker only uses `map`, `set` and `hash` from it, through the
 * ordinary unordered-container interface (find, try_emplace, erase, contains, iteration), so these
 * aliases of std::unordered_map / std::unordered_set are enough to build it offline.
 *
 * Differences from the real library that the worker does not rely on (checked for mediasoup 3.27.1;
 * scripts/build-mediasoup-worker.sh refuses versions that use other names from the namespace):
 * - iteration order is unspecified here, insertion order (until an erase) there;
 * - references stay valid across inserts here, not there (code written for the real library
 *   never depends on that, so it is only stronger);
 * - no values(), extract() of the dense vector, segmented_map or bucket tuning.
 */
#ifndef TIEPDAN_ANKERL_UNORDERED_DENSE_SHIM_H
#define TIEPDAN_ANKERL_UNORDERED_DENSE_SHIM_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ankerl::unordered_dense
{
	namespace detail
	{
		// A 64-bit multiply-xorshift finalizer (the well-known splitmix64 constants). libstdc++'s
		// std::hash of an integer is the identity; the worker feeds these hashes into a
		// boost::hash_combine-style mixer for transport tuples and port ranges, which assumes
		// every input bit already affects the whole word, as the real library's integer hash does.
		constexpr std::uint64_t mix(std::uint64_t x) noexcept
		{
			x ^= x >> 30;
			x *= 0xbf58476d1ce4e5b9ULL;
			x ^= x >> 27;
			x *= 0x94d049bb133111ebULL;
			x ^= x >> 31;
			return x;
		}
	} // namespace detail

	// Same shape as the real library: hash<T, Enable>, the second parameter for partial
	// specialisations. Anything without a specialisation falls back to std::hash (strings, ...).
	template<typename T, typename Enable = void>
	struct hash : std::hash<T>
	{
	};

	template<typename T>
	struct hash<T, std::enable_if_t<std::is_integral_v<T> || std::is_enum_v<T>>>
	{
		using is_avalanching = void;

		std::uint64_t operator()(const T& value) const noexcept
		{
			if constexpr (std::is_enum_v<T>)
				return detail::mix(static_cast<std::uint64_t>(static_cast<std::underlying_type_t<T>>(value)));
			else
				return detail::mix(static_cast<std::uint64_t>(value));
		}
	};

	template<typename T>
	struct hash<T*>
	{
		using is_avalanching = void;

		std::uint64_t operator()(T* ptr) const noexcept
		{
			return detail::mix(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(ptr)));
		}
	};

	template<
	  class Key,
	  class T,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<std::pair<const Key, T>>>
	using map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

	template<class Key, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>, class Allocator = std::allocator<Key>>
	using set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;
} // namespace ankerl::unordered_dense

#endif
