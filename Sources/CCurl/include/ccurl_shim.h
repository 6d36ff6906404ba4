#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H

/* CURL, CURLM and CURLSH as incomplete struct types rather than void, so their handles import
 * into Swift as OpaquePointer instead of raw memory pointers. */
#ifndef CURL_STRICTER
#define CURL_STRICTER
#endif
#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * curl_easy_setopt, curl_multi_setopt, curl_share_setopt and curl_easy_getinfo are variadic,
 * which Swift cannot call. Each function below fixes one argument type, so the value is passed
 * exactly as libcurl reads it back with va_arg.
 */

/* Callback types, named so Swift sees one concrete function-pointer type per setter. */
typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t count, void *userdata);
typedef curl_socket_t (*ccurl_opensocket_callback)(void *userdata, curlsocktype purpose,
                                                   struct curl_sockaddr *address);

CURLcode ccurl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_easy_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode ccurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode ccurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
/* CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION. */
CURLcode ccurl_easy_setopt_data_callback(CURL *handle, CURLoption option, ccurl_data_callback callback);
/* CURLOPT_OPENSOCKETFUNCTION. */
CURLcode ccurl_easy_setopt_opensocket_callback(CURL *handle, ccurl_opensocket_callback callback);

CURLcode ccurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode ccurl_easy_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode ccurl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value);
/* The string stays owned by libcurl and is valid until the handle is reset or cleaned up. */
CURLcode ccurl_easy_getinfo_string(CURL *handle, CURLINFO info, const char **value);
CURLcode ccurl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);

CURLMcode ccurl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);
CURLSHcode ccurl_share_setopt_long(CURLSH *share, CURLSHoption option, long value);

/*
 * Reads one message from curl_multi_info_read. Returns 1 and fills `handle` and `result` for a
 * finished transfer, 0 when the queue is empty. Messages other than CURLMSG_DONE are skipped.
 * (CURLMsg carries the result in a union, which is awkward to read from Swift.)
 */
int ccurl_multi_next_done(CURLM *multi, CURL **handle, CURLcode *result);

/*
 * Helpers for an open-socket callback: the numeric address libcurl is about to connect to
 * (written into `buffer` as text, "" for families other than IPv4 and IPv6), and the socket
 * libcurl itself would have created for it.
 */
void ccurl_sockaddr_text(const struct curl_sockaddr *address, char *buffer, size_t length);
curl_socket_t ccurl_open_socket(const struct curl_sockaddr *address);

#ifdef __cplusplus
}
#endif

#endif
