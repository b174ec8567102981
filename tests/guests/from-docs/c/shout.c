/* docs/abi.md by hand, in C: allocate/deallocate, one plugin function, the sections. */
#include <stdint.h>
#include <stdlib.h>

__asm__(".section .custom_section.wasmplug.abi,\"\",@\n.ascii \"\\001\\000\\000\\000\"\n.text\n");
__asm__(".section .custom_section.wasmplug.meta,\"\",@\n.ascii \"{\\\"name\\\":\\\"shout-c\\\",\\\"version\\\":\\\"1.0.0\\\"}\"\n.text\n");
__asm__(".section .custom_section.wasmplug.functions,\"\",@\n.ascii \"shout\\n\"\n.text\n");

__attribute__((import_module("wasmplug"), import_name("set_error")))
void set_error(const char *msg, uint32_t len, int32_t code);

__attribute__((export_name("allocate"))) void *allocate(uint32_t len) { return malloc(len ? len : 1); }
__attribute__((export_name("deallocate"))) void deallocate(void *ptr, uint32_t len) { free(ptr); }

__attribute__((export_name("shout"))) int64_t shout(uint8_t *ptr, uint32_t len) {
    if (len == 0) {
        set_error("nothing to shout", 16, 7);
        return 0;
    }
    for (uint32_t i = 0; i < len; i++)
        if (ptr[i] >= 'a' && ptr[i] <= 'z') ptr[i] -= 32;
    /* The input buffer is ours: hand it back as the output. */
    return (int64_t)(((uint64_t)(uintptr_t)ptr << 32) | len);
}
