/* Ends one instantiation of formulas_t.h (formulas.h): undefines its configuration macros.
 * No include guard: included once after every instantiation. */
#undef W
#undef WS
#undef FAST
#undef FMA
#undef EXP
#undef EXPNEG
#undef EXPM1
#undef LOG1P
#undef TANH
#undef TANH_ACC
#undef LOG1P_UNIT
#undef EXP_TAIL
